// Live image updates over server-sent events. Argus ends each /api/v1/events response
// after delivering what is ready (retry: 100) and the browser reconnects with
// Last-Event-ID by itself; only a closed stream (e.g. 401) or a reconnect that fails
// (the server gone) needs us.
import { type Image, isLater } from '../api/types';

/** The part of EventSource we use, so tests can inject a fake. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  removeEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** Opens a stream of `url`, resuming after the event `after` when given. */
export type EventSourceFactory = (url: string, after?: string) => EventSourceLike;

/** The stream's URL resuming after an event: the server's `after`, for a new EventSource. */
export function resumeUrl(url: string, after?: string): string {
  return after ? `${url}${url.includes('?') ? '&' : '?'}after=${encodeURIComponent(after)}` : url;
}

/** The listeners of an EventSourceLike that is not the browser's, by event type. */
/** The `ready` event's data when the events since the stream's last id are gone. */
function isMissedNotice(data: unknown): boolean {
  try {
    return (JSON.parse(String(data)) as { missed?: unknown })?.missed === true;
  } catch {
    return false;
  }
}

export class EventListeners {
  private readonly byType = new Map<string, Set<(event: MessageEvent) => void>>();

  add(type: string, listener: (event: MessageEvent) => void) {
    if (!this.byType.has(type)) this.byType.set(type, new Set());
    this.byType.get(type)!.add(listener);
  }

  remove(type: string, listener: (event: MessageEvent) => void) {
    this.byType.get(type)?.delete(listener);
  }

  count(type: string): number {
    return this.byType.get(type)?.size ?? 0;
  }

  dispatch(type: string, event: MessageEvent) {
    this.byType.get(type)?.forEach((listener) => listener(event));
  }
}

export const browserEventSource: EventSourceFactory = (url, after) =>
  new EventSource(resumeUrl(url, after), { withCredentials: true }) as unknown as EventSourceLike;

export type ConnectionState = 'connecting' | 'open' | 'closed';

const CLOSED = 2;
/** How many images the hub remembers the latest state of. */
const REMEMBERED_IMAGES = 1000;

export interface ImageEventHubOptions {
  url?: string;
  /** Delay before reopening a stream the browser gave up on; doubles up to maxDelayMs. */
  retryDelayMs?: number;
  maxDelayMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class ImageEventHub {
  private source: EventSourceLike | null = null;
  private readonly imageListeners = new Set<(image: Image) => void>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly deletionListeners = new Set<(id: string) => void>();
  private readonly lostListeners = new Set<() => void>();
  private readonly latest = new Map<string, Image>();
  private readonly deleted = new Set<string>();
  private state: ConnectionState = 'closed';
  private retryTimer: unknown = null;
  private delay: number;
  private stopped = true;
  /** A stream was lost: events may have been missed until the next one opens. */
  private missedEvents = false;
  /** The browser is reconnecting after an error and no 'open' has come since. */
  private reconnecting = false;
  /** The last event's id: a stream the hub opens again resumes after it, missing nothing
   * the server still holds (it says when it does not). */
  private lastEventId = '';
  private readonly options: Required<ImageEventHubOptions>;

  constructor(
    private readonly factory: EventSourceFactory,
    options: ImageEventHubOptions = {},
  ) {
    this.options = {
      url: options.url ?? '/api/v1/events',
      retryDelayMs: options.retryDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      setTimer: options.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: options.clearTimer ?? ((handle) => clearTimeout(handle as number)),
    };
    this.delay = this.options.retryDelayMs;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('offline', this.handleOffline);
    window.addEventListener('online', this.handleOnline);
    this.open();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('offline', this.handleOffline);
    window.removeEventListener('online', this.handleOnline);
    this.cancelRetry();
    this.detach();
    this.setState('closed');
  }

  private cancelRetry() {
    if (this.retryTimer !== null) this.options.clearTimer(this.retryTimer);
    this.retryTimer = null;
  }

  // The browser knows of a lost network at once, where a stream waiting in a long poll hears
  // of it only when the poll ends (up to 25 s): what failed meanwhile is tried again as soon
  // as the network is back.
  private readonly handleOffline = () => {
    if (this.stopped) return;
    this.cancelRetry();
    this.detach();
    this.missedEvents = true;
    this.setState('closed');
  };

  private readonly handleOnline = () => {
    if (this.stopped || this.source) return;
    this.cancelRetry();
    this.delay = this.options.retryDelayMs;
    this.open();
  };

  get connectionState(): ConnectionState {
    return this.state;
  }

  subscribe(listener: (image: Image) => void): () => void {
    this.imageListeners.add(listener);
    return () => {
      this.imageListeners.delete(listener);
    };
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  /** Called with the id of an image the account deleted, here or in another tab. */
  onDeleted(listener: (id: string) => void): () => void {
    this.deletionListeners.add(listener);
    return () => {
      this.deletionListeners.delete(listener);
    };
  }

  /**
   * Called when a stream opens after one was lost, whether the hub reopened it or the
   * browser reconnected it by itself: events may have been missed, and what failed while
   * the server was gone can be tried again.
   */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => {
      this.resyncListeners.delete(listener);
    };
  }

  /**
   * Calls listener each time the stream is lost. The server may be gone, or the session may
   * have ended (a password changed in another browser): the browser's EventSource cannot tell
   * which, so the app asks about its session then.
   */
  onLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => {
      this.lostListeners.delete(listener);
    };
  }

  /**
   * The furthest state known of an image. Events, upload answers and fetched pages arrive
   * in any order, and a row or card may appear only after the event that finished its image.
   */
  freshest(image: Image): Image {
    const known = this.latest.get(image.id);
    if (known && isLater(known, image)) return known;
    this.latest.delete(image.id);
    this.latest.set(image.id, image);
    if (this.latest.size > REMEMBERED_IMAGES) this.latest.delete(this.latest.keys().next().value!);
    return image;
  }

  /** Whether the account deleted the image, here or in another tab, since the stream opened. */
  wasDeleted(id: string): boolean {
    return this.deleted.has(id);
  }

  /**
   * Delivers an image learned some other way (an upload answer, a fetch) to listeners,
   * unless they already had a later state of it.
   */
  publish(image: Image) {
    if (this.freshest(image) !== image) return;
    this.imageListeners.forEach((listener) => listener(image));
  }

  private readonly handleImage = (event: MessageEvent) => {
    if (event.lastEventId) this.lastEventId = event.lastEventId;
    let image: Image;
    try {
      image = JSON.parse(String(event.data)) as Image;
    } catch {
      return;
    }
    if (!image || typeof image.id !== 'string' || typeof image.status !== 'string') return;
    this.markOpen();
    // The server's { id, status: 'deleted' } is not an image: it ends one.
    if ((image.status as string) === 'deleted') {
      this.latest.delete(image.id);
      this.deleted.add(image.id);
      if (this.deleted.size > REMEMBERED_IMAGES) this.deleted.delete(this.deleted.values().next().value!);
      this.deletionListeners.forEach((listener) => listener(image.id));
      return;
    }
    this.publish(image);
  };

  private readonly handleReady = (event: MessageEvent) => {
    if (event.lastEventId) this.lastEventId = event.lastEventId;
    this.markOpen();
    // The server's window of recent events moved past this stream's place: what it shows
    // may be stale, as after an outage.
    if (isMissedNotice(event.data)) this.resyncListeners.forEach((listener) => listener());
  };
  private readonly handleOpen = () => this.markOpen();

  private readonly handleError = () => {
    if (!this.source) return;
    // A finished response makes the browser reconnect by itself (readyState CONNECTING),
    // and 'open' follows. A second error before it means the server cannot be reached: the
    // browser would go on retrying every 100 ms (the server's retry:) while the page still
    // said live, so the stream is closed and reopened with our backoff, like a CLOSED one.
    if (this.source.readyState !== CLOSED && !this.reconnecting) {
      this.reconnecting = true;
      return;
    }
    this.detach();
    this.missedEvents = true;
    this.setState('closed');
    this.lostListeners.forEach((listener) => listener());
    if (this.stopped) return;
    this.retryTimer = this.options.setTimer(() => {
      this.retryTimer = null;
      if (!this.stopped) this.open();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, this.options.maxDelayMs);
  };

  private markOpen() {
    this.reconnecting = false;
    this.delay = this.options.retryDelayMs;
    if (this.state === 'open') return;
    this.setState('open');
    // Not when the stream is created: the server may still be gone then, and whatever the
    // listeners try again would fail again with nothing left to retry it.
    if (this.missedEvents) {
      this.missedEvents = false;
      this.resyncListeners.forEach((listener) => listener());
    }
  }

  private open() {
    this.reconnecting = false;
    this.setState('connecting');
    const source = this.factory(this.options.url, this.lastEventId || undefined);
    this.source = source;
    source.addEventListener('image', this.handleImage);
    source.addEventListener('ready', this.handleReady);
    source.addEventListener('open', this.handleOpen);
    source.addEventListener('error', this.handleError);
  }

  private detach() {
    if (!this.source) return;
    const source = this.source;
    source.removeEventListener('image', this.handleImage);
    source.removeEventListener('ready', this.handleReady);
    source.removeEventListener('open', this.handleOpen);
    source.removeEventListener('error', this.handleError);
    source.close();
    this.source = null;
  }

  private setState(state: ConnectionState) {
    this.state = state;
    this.stateListeners.forEach((listener) => listener(state));
  }
}
