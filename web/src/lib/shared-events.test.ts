import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource, makeImage } from '../test/fakes';
import { ImageEventHub } from './events';
import { type ChannelLike, type LockManagerLike, sharedEventSource } from './shared-events';

/** Web Locks as the browser grants them: one holder per name, the others queued in order. */
class FakeLocks implements LockManagerLike {
  private readonly held = new Set<string>();
  private readonly waiting = new Map<string, { start: () => void; signal: AbortSignal }[]>();

  request(name: string, options: { signal: AbortSignal }, held: () => Promise<void>) {
    return new Promise<void>((resolve, reject) => {
      const start = () => {
        this.held.add(name);
        void held().then(() => {
          this.held.delete(name);
          resolve();
          this.next(name);
        });
      };
      if (!this.held.has(name)) return start();
      const queue = this.waiting.get(name) ?? [];
      const entry = { start, signal: options.signal };
      queue.push(entry);
      this.waiting.set(name, queue);
      options.signal.addEventListener('abort', () => {
        const index = queue.indexOf(entry);
        if (index >= 0) queue.splice(index, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }

  private next(name: string) {
    const queue = this.waiting.get(name);
    const entry = queue?.shift();
    entry?.start();
  }
}

/**
 * BroadcastChannel among the tabs of one browser: every other channel of the name hears,
 * later (a task of its own), as in the browser.
 */
class FakeChannels {
  private readonly open = new Set<{ name: string; listeners: ((event: MessageEvent) => void)[] }>();

  channel = (name: string): ChannelLike => {
    const self = { name, listeners: [] as ((event: MessageEvent) => void)[] };
    this.open.add(self);
    return {
      postMessage: (message) => {
        for (const other of this.open) {
          if (other === self || other.name !== name) continue;
          const event = new MessageEvent('message', { data: structuredClone(message) });
          setTimeout(() => {
            if (this.open.has(other)) other.listeners.forEach((listener) => listener(event));
          }, 0);
        }
      },
      addEventListener: (_type, listener) => self.listeners.push(listener),
      close: () => this.open.delete(self),
    };
  };
}

/** Pending tasks run: the locks grant through promises, the channels deliver later. */
async function settle() {
  // A question and its answer are two deliveries.
  for (let task = 0; task < 3; task++) await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('sharedEventSource', () => {
  let factory: ReturnType<typeof sharedEventSource>;

  beforeEach(() => {
    FakeEventSource.instances = [];
    factory = sharedEventSource({
      factory: FakeEventSource.factory,
      locks: new FakeLocks(),
      channel: new FakeChannels().channel,
    });
  });

  it('opens one stream for all tabs and gives every tab its events', async () => {
    const first = factory('/api/v1/events');
    const second = factory('/api/v1/events');
    await settle();
    expect(FakeEventSource.instances).toHaveLength(1);
    const seen = [vi.fn(), vi.fn()];
    first.addEventListener('image', seen[0]!);
    second.addEventListener('image', seen[1]!);
    FakeEventSource.latest().emit('ready', {}, '100');
    FakeEventSource.latest().emit('image', makeImage({ id: 'a1' }), '101');
    await settle();
    for (const listener of seen) {
      expect(listener).toHaveBeenCalledTimes(1);
      expect(JSON.parse(listener.mock.calls[0]![0].data).id).toBe('a1');
    }
    expect(second.readyState).toBe(1);
  });

  it('tells a tab opened later that the stream is open', async () => {
    const first = factory('/api/v1/events');
    await settle();
    FakeEventSource.latest().emit('ready', {}, '100');
    const second = factory('/api/v1/events');
    const opened = vi.fn();
    second.addEventListener('open', opened);
    expect(second.readyState).toBe(0);
    await settle();
    expect(opened).toHaveBeenCalledTimes(1);
    expect(second.readyState).toBe(1);
    first.close();
  });

  it('hands the stream on when its tab closes, resuming after the last event', async () => {
    const first = factory('/api/v1/events');
    const second = factory('/api/v1/events');
    await settle();
    FakeEventSource.latest().emit('image', makeImage({ id: 'a1' }), '205');
    await settle();
    first.close();
    await settle();
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.instances[0]!.closed).toBe(true);
    expect(FakeEventSource.latest().url).toBe('/api/v1/events?after=205');
    const seen = vi.fn();
    second.addEventListener('image', seen);
    FakeEventSource.latest().emit('image', makeImage({ id: 'a2' }), '206');
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('passes a stream the browser gave up on to every tab as closed', async () => {
    const first = factory('/api/v1/events');
    const second = factory('/api/v1/events');
    await settle();
    const errors = vi.fn();
    second.addEventListener('error', errors);
    FakeEventSource.latest().fail();
    await settle();
    expect(errors).toHaveBeenCalledTimes(1);
    expect(second.readyState).toBe(2);
    expect(first.readyState).toBe(2);
  });

  it('keeps every tab of the hub live on the one stream', async () => {
    const hubs = [new ImageEventHub(factory), new ImageEventHub(factory)];
    const seen = hubs.map((hub) => {
      const listener = vi.fn();
      hub.subscribe(listener);
      hub.start();
      return listener;
    });
    await settle();
    expect(FakeEventSource.instances).toHaveLength(1);
    FakeEventSource.latest().emit('ready', {}, '300');
    const image = makeImage({ id: 'b1', status: 'done' });
    FakeEventSource.latest().emit('image', image, '301');
    await settle();
    for (const listener of seen) expect(listener).toHaveBeenCalledWith(image);
    expect(hubs.map((hub) => hub.connectionState)).toEqual(['open', 'open']);
    hubs.forEach((hub) => hub.stop());
  });

  it('is the plain EventSource where the browser has no Web Locks', () => {
    const plain = sharedEventSource({ factory: FakeEventSource.factory, locks: undefined });
    plain('/api/v1/events');
    expect(FakeEventSource.instances).toHaveLength(1);
  });
});
