// One event stream for all of a browser's tabs of the app. Argus speaks HTTP/1.1, where a
// browser opens at most six connections to a server, and each tab's stream holds one for up
// to 25 s at a time: with six tabs open, an upload in any of them waited about 22 s for a
// connection. The tab holding a Web Lock opens the stream and passes its events to the
// others on a BroadcastChannel; when it closes, the next tab waiting for the lock takes
// over, resuming after the last event any tab saw (the server's `after`).
import {
  EventListeners,
  type EventSourceFactory,
  type EventSourceLike,
  browserEventSource,
} from './events';

type Listener = (event: MessageEvent) => void;

/** The part of the Web Locks API used here. */
export interface LockManagerLike {
  request(name: string, options: { signal: AbortSignal }, held: () => Promise<void>): Promise<void>;
}

/** The part of BroadcastChannel used here. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface SharedEventSourceOptions {
  /** Opens the one real stream, in the tab that holds the lock. */
  factory?: EventSourceFactory;
  locks?: LockManagerLike;
  channel?: (name: string) => ChannelLike;
}

/** Between the tabs: an event of the stream, or a new tab asking how the stream stands. */
type Message =
  | { kind: 'event'; type: string; data: string; lastEventId: string; readyState: number }
  | { kind: 'state'; readyState: number; lastEventId: string }
  | { kind: 'hello' };

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
const FORWARDED = ['image', 'ready', 'open', 'error'] as const;

class SharedEventSource implements EventSourceLike {
  private state = CONNECTING;
  private lastEventId = '';
  private source: EventSourceLike | null = null;
  private readonly listeners = new EventListeners();
  private readonly channel: ChannelLike;
  private readonly abort = new AbortController();
  private release: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly factory: EventSourceFactory,
    locks: LockManagerLike,
    channel: (name: string) => ChannelLike,
    after = '',
  ) {
    this.lastEventId = after;
    this.channel = channel(`argus-events ${url}`);
    this.channel.addEventListener('message', this.handleMessage);
    this.channel.postMessage({ kind: 'hello' } satisfies Message);
    locks
      .request(`argus-events ${url}`, { signal: this.abort.signal }, () => this.lead())
      .catch(() => {}); // aborted by close() while waiting: another tab leads
  }

  get readyState(): number {
    return this.source ? this.source.readyState : this.state;
  }

  addEventListener(type: string, listener: Listener) {
    this.listeners.add(type, listener);
  }

  removeEventListener(type: string, listener: Listener) {
    this.listeners.remove(type, listener);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.state = CLOSED;
    this.abort.abort();
    this.release?.();
    this.channel.close();
  }

  /** Holds the lock, and the stream, until close(). */
  private lead(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const source = this.factory(this.url, this.lastEventId || undefined);
    this.source = source;
    for (const type of FORWARDED) {
      source.addEventListener(type, (event) => {
        if (event.lastEventId) this.lastEventId = event.lastEventId;
        this.channel.postMessage({
          kind: 'event',
          type,
          data: typeof event.data === 'string' ? event.data : '',
          lastEventId: event.lastEventId ?? '',
          readyState: source.readyState,
        } satisfies Message);
        this.dispatch(type, event);
      });
    }
    return new Promise<void>((resolve) => {
      this.release = () => {
        source.close();
        this.source = null;
        resolve();
      };
    });
  }

  private readonly handleMessage = (event: MessageEvent) => {
    const message = event.data as Message;
    if (this.closed || !message || typeof message !== 'object') return;
    if (message.kind === 'hello') {
      if (this.source) {
        this.channel.postMessage({
          kind: 'state',
          readyState: this.source.readyState,
          lastEventId: this.lastEventId,
        } satisfies Message);
      }
      return;
    }
    // The leading tab's own listeners had it from its stream.
    if (this.source) return;
    if (message.lastEventId) this.lastEventId = message.lastEventId;
    this.state = message.readyState;
    if (message.kind === 'state') {
      if (message.readyState === OPEN) this.dispatch('open', new MessageEvent('open'));
      return;
    }
    this.dispatch(
      message.type,
      new MessageEvent(message.type, { data: message.data, lastEventId: message.lastEventId }),
    );
  };

  private dispatch(type: string, event: MessageEvent) {
    this.listeners.dispatch(type, event);
  }
}

/**
 * An EventSourceFactory whose streams share one connection among the app's tabs, or the
 * plain one where the browser lacks Web Locks or BroadcastChannel.
 */
export function sharedEventSource(options: SharedEventSourceOptions = {}): EventSourceFactory {
  const factory = options.factory ?? browserEventSource;
  const locks =
    options.locks ??
    (typeof navigator !== 'undefined' ? (navigator.locks as LockManagerLike | undefined) : undefined);
  const channel =
    options.channel ??
    (typeof BroadcastChannel !== 'undefined'
      ? (name: string) => new BroadcastChannel(name) as ChannelLike
      : undefined);
  if (!locks || !channel) return factory;
  return (url, after) => new SharedEventSource(url, factory, locks, channel, after);
}
