import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource, makeImage } from '../test/fakes';
import { ImageEventHub } from './events';

/** Hubs of the tests, stopped after each: a started hub listens for the browser's online event. */
const started: ImageEventHub[] = [];
afterEach(() => started.splice(0).forEach((hub) => hub.stop()));

function setup() {
  FakeEventSource.instances = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const hub = new ImageEventHub(FakeEventSource.factory, {
    setTimer: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimer: () => {},
  });
  started.push(hub);
  return { hub, timers };
}

describe('ImageEventHub', () => {
  it('opens /api/v1/events and delivers image events as Image objects', () => {
    const { hub } = setup();
    const seen = vi.fn();
    hub.subscribe(seen);
    hub.start();
    const source = FakeEventSource.latest();
    expect(source.url).toBe('/api/v1/events');
    const image = makeImage({ status: 'processing' });
    source.emit('ready', {});
    source.emit('image', image, '17');
    expect(seen).toHaveBeenCalledWith(image);
    expect(hub.connectionState).toBe('open');
  });

  it('ignores malformed event data', () => {
    const { hub } = setup();
    const seen = vi.fn();
    hub.subscribe(seen);
    hub.start();
    FakeEventSource.latest().emit('image', 'not json{');
    FakeEventSource.latest().emit('image', { hello: 'world' });
    expect(seen).not.toHaveBeenCalled();
  });

  it('tells of deleted images without passing them off as images', () => {
    const { hub } = setup();
    const seen = vi.fn();
    const deleted = vi.fn();
    hub.subscribe(seen);
    hub.onDeleted(deleted);
    hub.start();
    FakeEventSource.latest().emit('image', makeImage({ id: 'x1' }));
    FakeEventSource.latest().emit('image', { id: 'x1', status: 'deleted' });
    expect(deleted).toHaveBeenCalledWith('x1');
    expect(seen).toHaveBeenCalledTimes(1);
    // Forgotten: the same content uploaded again starts afresh.
    const again = makeImage({ id: 'x1', status: 'queued' });
    hub.publish(again);
    expect(seen).toHaveBeenLastCalledWith(again);
  });

  it('lets the browser reconnect by itself when a response ends', () => {
    const { hub, timers } = setup();
    hub.start();
    FakeEventSource.latest().emit('ready');
    FakeEventSource.latest().endResponse();
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.latest().closed).toBe(false);
    expect(timers).toHaveLength(0);
  });

  it('takes a reconnect that fails as the server gone: offline, then its own backoff', () => {
    const { hub, timers } = setup();
    const resync = vi.fn();
    hub.onResync(resync);
    hub.start();
    const source = FakeEventSource.latest();
    source.emit('ready');
    source.endResponse();
    source.emit('open');
    source.endResponse();
    expect(hub.connectionState).toBe('open');
    expect(timers).toHaveLength(0);
    // The server is down: the browser's reconnect fails too, and it would retry every 100 ms.
    source.endResponse();
    expect(hub.connectionState).toBe('closed');
    expect(source.closed).toBe(true);
    expect(timers[0].ms).toBe(1000);
    timers[0].fn();
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(resync).not.toHaveBeenCalled();
    // A first connection that fails the same way backs off further.
    FakeEventSource.latest().endResponse();
    FakeEventSource.latest().endResponse();
    expect(timers[1].ms).toBe(2000);
  });

  it('asks for a resync when the server says the stream’s events left its window', () => {
    const { hub } = setup();
    const resync = vi.fn();
    hub.onResync(resync);
    hub.start();
    FakeEventSource.latest().emit('ready', {}, '100');
    expect(resync).not.toHaveBeenCalled();
    FakeEventSource.latest().endResponse();
    FakeEventSource.latest().emit('ready', { missed: true }, '200');
    expect(resync).toHaveBeenCalledTimes(1);
    expect(hub.connectionState).toBe('open');
  });

  it('is offline as soon as the browser is, and reopens and resyncs once it is back', () => {
    const { hub, timers } = setup();
    const resync = vi.fn();
    hub.onResync(resync);
    hub.start();
    const first = FakeEventSource.latest();
    first.emit('open');
    window.dispatchEvent(new Event('offline'));
    expect(hub.connectionState).toBe('closed');
    expect(first.closed).toBe(true);
    expect(timers).toHaveLength(0);
    window.dispatchEvent(new Event('online'));
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(resync).not.toHaveBeenCalled();
    FakeEventSource.latest().emit('open');
    expect(resync).toHaveBeenCalledTimes(1);
    hub.stop();
    window.dispatchEvent(new Event('online'));
    expect(FakeEventSource.instances).toHaveLength(2);
  });

  it('opens a stream again after the last event it had, so the server sends what it missed', () => {
    const { hub, timers } = setup();
    hub.start();
    const first = FakeEventSource.latest();
    first.emit('ready', {}, '100');
    first.emit('image', makeImage({ id: 'x' }), '150');
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    expect(FakeEventSource.latest().url).toBe('/api/v1/events?after=150');
    // The same when the browser gave up on a stream and the hub reopens it.
    FakeEventSource.latest().emit('open');
    FakeEventSource.latest().fail();
    timers.at(-1)!.fn();
    expect(FakeEventSource.latest().url).toBe('/api/v1/events?after=150');
  });

  it('tells of each loss of the stream, for the app to ask about its session', () => {
    const { hub, timers } = setup();
    const lost = vi.fn();
    hub.onLost(lost);
    hub.start();
    FakeEventSource.latest().emit('open');
    FakeEventSource.latest().endResponse();
    expect(lost).not.toHaveBeenCalled();
    FakeEventSource.latest().fail();
    expect(lost).toHaveBeenCalledTimes(1);
    timers[0].fn();
    FakeEventSource.latest().fail();
    expect(lost).toHaveBeenCalledTimes(2);
  });

  it('reopens a closed stream with backoff and asks for a resync', () => {
    const { hub, timers } = setup();
    const resync = vi.fn();
    const states: string[] = [];
    hub.onResync(resync);
    hub.onState((s) => states.push(s));
    hub.start();
    FakeEventSource.latest().fail();
    expect(hub.connectionState).toBe('closed');
    expect(timers[0].ms).toBe(1000);
    timers[0].fn();
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.latest().fail();
    expect(timers[1].ms).toBe(2000);
    expect(states).toEqual(['connecting', 'closed', 'connecting', 'closed']);
    timers[1].fn();
    FakeEventSource.latest().emit('open');
    expect(resync).toHaveBeenCalledTimes(1);
    expect(states.at(-1)).toBe('open');
  });

  it('asks for a resync only once a reopened stream is open, however it got there', () => {
    const { hub, timers } = setup();
    const resync = vi.fn();
    hub.onResync(resync);
    hub.start();
    FakeEventSource.latest().emit('open');
    expect(resync).not.toHaveBeenCalled();
    // The server went away: the browser's reconnect failed, and the hub closed the stream.
    FakeEventSource.latest().endResponse();
    FakeEventSource.latest().endResponse();
    timers[0].fn();
    expect(resync).not.toHaveBeenCalled();
    // The reopened stream's first try fails as well (the server is still gone); the browser
    // then reconnects it by itself once the server is back.
    const reopened = FakeEventSource.latest();
    reopened.endResponse();
    expect(resync).not.toHaveBeenCalled();
    reopened.emit('open');
    expect(hub.connectionState).toBe('open');
    expect(resync).toHaveBeenCalledTimes(1);
    // The responses the server ends as usual afterwards miss nothing.
    reopened.endResponse();
    reopened.emit('open');
    expect(resync).toHaveBeenCalledTimes(1);
  });

  it('closes the stream and stops listening on stop()', () => {
    const { hub } = setup();
    const seen = vi.fn();
    hub.subscribe(seen);
    hub.start();
    const source = FakeEventSource.latest();
    hub.stop();
    expect(source.closed).toBe(true);
    expect(source.listenerCount('image')).toBe(0);
    source.emit('image', makeImage());
    expect(seen).not.toHaveBeenCalled();
  });

  it('publishes locally learned images to subscribers', () => {
    const { hub } = setup();
    const seen = vi.fn();
    const unsubscribe = hub.subscribe(seen);
    const image = makeImage();
    hub.publish(image);
    unsubscribe();
    hub.publish(image);
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('remembers the furthest state of each image, whichever way it came', () => {
    const { hub } = setup();
    const seen = vi.fn();
    hub.subscribe(seen);
    hub.start();
    const done = makeImage({ id: 'x1' });
    FakeEventSource.latest().emit('image', done);
    const late = { ...done, status: 'queued' as const };
    // An upload's answer or a fetched page that left before the event.
    expect(hub.freshest(late)).toEqual(done);
    hub.publish(late);
    expect(seen).toHaveBeenCalledTimes(1);
    const fresh = makeImage({ id: 'x2', status: 'processing' });
    expect(hub.freshest(fresh)).toBe(fresh);
  });
});
