// Test doubles: an EventSource, an IntersectionObserver, a routed fetch and an uploader.
import { vi } from 'vitest';
import type { UploadFn } from '../api/upload';
import type { Image, User } from '../api/types';
import { EventListeners, type EventSourceLike, resumeUrl } from '../lib/events';

type Listener = (event: MessageEvent) => void;

export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  private listeners = new EventListeners();

  constructor(public url: string) {
    FakeEventSource.instances.push(this);
  }

  static factory = (url: string, after?: string) => new FakeEventSource(resumeUrl(url, after));

  static latest(): FakeEventSource {
    const last = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!last) throw new Error('no EventSource was opened');
    return last;
  }

  addEventListener(type: string, listener: Listener) {
    this.listeners.add(type, listener);
  }

  removeEventListener(type: string, listener: Listener) {
    this.listeners.remove(type, listener);
  }

  close() {
    this.closed = true;
    this.readyState = 2;
  }

  listenerCount(type: string) {
    return this.listeners.count(type);
  }

  emit(type: string, data?: unknown, lastEventId = '') {
    if (type === 'open' || type === 'ready') this.readyState = 1;
    const event = new MessageEvent(type, {
      data: typeof data === 'string' ? data : JSON.stringify(data ?? {}),
      lastEventId,
    });
    this.listeners.dispatch(type, event);
  }

  /** The server ended the response: the browser will reconnect by itself. */
  endResponse() {
    this.readyState = 0;
    this.emit('error');
  }

  /** The browser gave up (e.g. 401): readyState CLOSED. */
  fail() {
    this.readyState = 2;
    this.emit('error');
  }
}

export class FakeIntersectionObserver {
  static instances: FakeIntersectionObserver[] = [];
  elements: Element[] = [];
  constructor(
    public callback: IntersectionObserverCallback,
    public options?: IntersectionObserverInit,
  ) {
    FakeIntersectionObserver.instances.push(this);
  }
  observe(element: Element) {
    this.elements.push(element);
  }
  unobserve() {}
  disconnect() {
    this.elements = [];
  }
  takeRecords() {
    return [];
  }
  /** Pretends the observed elements scrolled into view. */
  trigger(isIntersecting = true) {
    this.callback(
      this.elements.map((target) => ({ target, isIntersecting }) as IntersectionObserverEntry),
      this as unknown as IntersectionObserver,
    );
  }
}

export interface FakeResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (url: URL, init: RequestInit) => FakeResponse | Promise<FakeResponse>;

export interface FetchCall {
  method: string;
  path: string;
  url: URL;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * A fetch that routes "METHOD /path" (path without query) to handlers; unknown routes
 * answer 404. Returns the mock and the list of calls.
 */
export function mockFetch(routes: Record<string, FakeResponse | Handler>) {
  const calls: FetchCall[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(
      Object.entries((init.headers as Record<string, string>) ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    let body: unknown = init.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* leave as text */
      }
    }
    calls.push({ method, path: url.pathname, url, headers, body });
    const route = routes[`${method} ${url.pathname}`];
    const answer: FakeResponse = route
      ? typeof route === 'function'
        ? await route(url, init)
        : route
      : { status: 404, body: { error: { code: 'not_found', message: 'no such thing' } } };
    const status = answer.status ?? 200;
    const text =
      answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const responseHeaders = new Headers(answer.headers ?? {});
    if (typeof answer.body === 'object' && !responseHeaders.has('Content-Type')) {
      responseHeaders.set('Content-Type', 'application/json');
    }
    return new Response(status === 204 ? null : text, { status, headers: responseHeaders });
  });
  vi.stubGlobal('fetch', fn);
  return { fetch: fn, calls };
}

export const USER: User = { id: 1, email: 'ada@example.com', is_admin: false };
export const ADMIN: User = { id: 2, email: 'root@example.com', is_admin: true };

let counter = 0;
export function makeImage(overrides: Partial<Image> = {}): Image {
  counter++;
  const id = overrides.id ?? `img${String(counter).padStart(4, '0')}`;
  return {
    id,
    status: 'done',
    filename: `${id}.jpg`,
    content_type: 'image/jpeg',
    size_bytes: 123456,
    width: 640,
    height: 480,
    uploaded_at_ms: 1_700_000_000_000 - counter * 1000,
    urls: { self: `/api/v1/images/${id}`, file: `/api/v1/images/${id}/file` },
    labels: [
      { wnid: 'n02099601', name: 'golden retriever', confidence: 0.82, parents: ['dog', 'mammal', 'animal'] },
      { wnid: 'n02099712', name: 'Labrador retriever', confidence: 0.11, parents: ['dog', 'mammal', 'animal'] },
    ],
    spirit_dog: { wnid: 'n02099601', name: 'golden retriever', confidence: 0.86 },
    model: 'mobilenetv2-12-int8',
    timings: { queued_ms: 3, inference_ms: 1.6, total_ms: 7 },
    ...overrides,
  };
}

export interface ControlledUpload {
  file: File;
  progress(fraction: number): void;
  resolve(image: Image): void;
  reject(error: Error): void;
  aborted: boolean;
}

/** An UploadFn whose uploads the test drives by hand. */
export function controlledUploader() {
  const uploads: ControlledUpload[] = [];
  const upload: UploadFn = (file, onProgress) => {
    let resolve!: (image: Image) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<Image>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: ControlledUpload = { file, progress: onProgress, resolve, reject, aborted: false };
    uploads.push(entry);
    return {
      promise,
      abort: () => {
        entry.aborted = true;
        reject(Object.assign(new Error('Upload cancelled.'), { name: 'AbortError' }));
      },
    };
  };
  return { upload, uploads };
}

export function imageFile(name = 'cat.jpg', type = 'image/jpeg', size = 2048): File {
  return new File([new Uint8Array(size)], name, { type });
}
