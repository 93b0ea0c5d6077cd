// Thin fetch wrapper for the Argus API: same-origin cookies, CSRF double submit, and
// errors of the form {"error":{"code","message"}} turned into ApiError.
import type {
  ApiToken,
  CreatedToken,
  Image,
  ImagePage,
  OpsStatus,
  User,
} from './types';

export const CSRF_COOKIE = 'argus_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds from a Retry-After header (429/503), when the server sent one. */
  readonly retryAfter?: number;

  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Reads a cookie visible to scripts (argus_session is HttpOnly, argus_csrf is not). */
export function readCookie(name: string, cookieString: string = document.cookie): string {
  for (const part of cookieString.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return '';
}

export function csrfHeaders(): Record<string, string> {
  const token = readCookie(CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds));
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, Math.round((date - Date.now()) / 1000));
  return undefined;
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'The request was not accepted.',
  401: 'Please log in.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  413: 'The file is too large.',
  415: 'That file is not a supported image.',
  429: 'Too many attempts. Please wait a moment.',
  503: 'The service is busy. Please try again shortly.',
};

/** Builds an ApiError from a status, a response body (text) and a Retry-After value. */
export function errorFromResponse(
  status: number,
  bodyText: string,
  retryAfterHeader: string | null,
): ApiError {
  let code = `http_${status}`;
  let message = FALLBACK_MESSAGES[status] ?? `Request failed (HTTP ${status}).`;
  try {
    const body = JSON.parse(bodyText) as { error?: { code?: string; message?: string } };
    if (body?.error?.code) code = body.error.code;
    if (body?.error?.message) message = body.error.message;
  } catch {
    /* not JSON: keep the fallback */
  }
  return new ApiError(status, code, message, parseRetryAfter(retryAfterHeader));
}

type Listener = (error: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called for 401 answers outside /auth/, so the app can return to the log-in page. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Tells the app that the session has ended (a 401 outside /auth/). */
export function reportUnauthorized(error: ApiError): void {
  unauthorizedListeners.forEach((listener) => listener(error));
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') Object.assign(headers, csrfHeaders());
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection.');
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    const error = errorFromResponse(response.status, text, response.headers.get('Retry-After'));
    if (response.status === 401 && !path.startsWith('/api/v1/auth/')) reportUnauthorized(error);
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (!text) return undefined as T;
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('json') || text.startsWith('{') || text.startsWith('[')) {
    return JSON.parse(text) as T;
  }
  return text as unknown as T;
}

export interface ListImagesParams {
  cursor?: string;
  limit?: number;
  label?: string;
}

export function imageUrl(id: string): string {
  return `/api/v1/images/${encodeURIComponent(id)}`;
}

export const api = {
  me: () => request<{ user: User }>('/api/v1/auth/me'),
  login: (email: string, password: string) =>
    request<{ user: User }>('/api/v1/auth/login', { method: 'POST', body: { email, password } }),
  signup: (email: string, password: string) =>
    request<{ user: User }>('/api/v1/auth/signup', { method: 'POST', body: { email, password } }),
  logout: () => request<void>('/api/v1/auth/logout', { method: 'POST' }),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>('/api/v1/auth/password', {
      method: 'POST',
      body: { current_password: currentPassword, new_password: newPassword },
    }),
  deleteAccount: (password: string) => request<void>('/api/v1/auth/me', { method: 'DELETE', body: { password } }),

  listImages: (params: ListImagesParams = {}, signal?: AbortSignal) => {
    const query = new URLSearchParams();
    if (params.cursor) query.set('cursor', params.cursor);
    if (params.limit) query.set('limit', String(params.limit));
    if (params.label) query.set('label', params.label);
    const suffix = query.toString();
    return request<ImagePage>(`/api/v1/images${suffix ? `?${suffix}` : ''}`, { signal });
  },
  getImage: (id: string, signal?: AbortSignal) => request<Image>(imageUrl(id), { signal }),
  deleteImage: (id: string) => request<void>(imageUrl(id), { method: 'DELETE' }),
  retryImage: (id: string) => request<Image>(`${imageUrl(id)}/retry`, { method: 'POST' }),

  listTokens: () => request<{ tokens: ApiToken[] }>('/api/v1/tokens'),
  createToken: (name: string) =>
    request<CreatedToken>('/api/v1/tokens', { method: 'POST', body: { name } }),
  deleteToken: (id: string | number) =>
    request<void>(`/api/v1/tokens/${encodeURIComponent(String(id))}`, { method: 'DELETE' }),

  opsStatus: (signal?: AbortSignal) => request<OpsStatus>('/api/v1/ops/status', { signal }),
  metricsText: async (signal?: AbortSignal): Promise<string> => {
    const response = await fetch('/metrics', { credentials: 'same-origin', signal });
    const text = await response.text();
    if (!response.ok) throw errorFromResponse(response.status, text, null);
    return text;
  },
};

export const urls = {
  file: (id: string) => `${imageUrl(id)}/file`,
  thumbnail: (id: string) => `${imageUrl(id)}/thumbnail`,
  breedPhoto: (wnid: string) => `/api/v1/breeds/${encodeURIComponent(wnid)}/photo`,
};
