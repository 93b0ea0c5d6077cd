import { describe, expect, it, vi } from 'vitest';
import { mockFetch } from '../test/fakes';
import { ApiError, api, errorFromResponse, onUnauthorized, readCookie } from './client';
import { validateCredentials } from '../lib/validation';

describe('api client', () => {
  it('reads the CSRF cookie', () => {
    expect(readCookie('argus_csrf', 'a=1; argus_csrf=abc%3D%3D; b=2')).toBe('abc==');
    expect(readCookie('argus_csrf', 'a=1')).toBe('');
  });

  it('sends the CSRF token and same-origin credentials on state changes only', async () => {
    const { fetch, calls } = mockFetch({
      'DELETE /api/v1/images/abc': { status: 204 },
      'GET /api/v1/images/abc': { body: { id: 'abc' } },
    });
    await api.deleteImage('abc');
    await api.getImage('abc');
    expect(calls[0].headers['x-csrf-token']).toBe('test-csrf-token');
    expect(calls[1].headers['x-csrf-token']).toBeUndefined();
    expect(fetch.mock.calls[0][1]).toMatchObject({ credentials: 'same-origin', method: 'DELETE' });
  });

  it('turns error bodies into ApiError with code, message and Retry-After', async () => {
    mockFetch({
      'POST /api/v1/auth/login': {
        status: 429,
        body: { error: { code: 'rate_limited', message: 'slow down' } },
        headers: { 'Retry-After': '12' },
      },
    });
    const error = await api.login('a@b.c', 'password').catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', message: 'slow down', retryAfter: 12 });
  });

  it('falls back to a readable message for non-JSON errors', () => {
    const error = errorFromResponse(413, '<html>too big</html>', null);
    expect(error.code).toBe('http_413');
    expect(error.message).toMatch(/too large/);
  });

  it('reports 401 outside /auth/ so the app can ask to log in again', async () => {
    mockFetch({ 'GET /api/v1/images': { status: 401, body: { error: { code: 'unauthenticated', message: 'log in' } } } });
    const listener = vi.fn();
    const stop = onUnauthorized(listener);
    await api.listImages().catch(() => {});
    stop();
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('builds list queries with cursor, limit and label', async () => {
    const { calls } = mockFetch({ 'GET /api/v1/images': { body: { images: [], next_cursor: '' } } });
    await api.listImages({ cursor: 'c1', limit: 30, label: 'dog' });
    expect(calls[0].url.search).toBe('?cursor=c1&limit=30&label=dog');
  });
});

describe('validateCredentials', () => {
  it('requires an @ in the email and 8 characters for a new password', () => {
    expect(validateCredentials({ email: 'nobody', password: 'short' }, 'signup')).toEqual({
      email: expect.stringMatching(/email address/),
      password: 'Use at least 8 characters.',
    });
    expect(validateCredentials({ email: 'a@b', password: 'short' }, 'login')).toEqual({});
    expect(validateCredentials({ email: 'a@b', password: 'longenough', confirm: 'other' }, 'signup')).toEqual({
      confirm: 'The passwords do not match.',
    });
  });

  it('counts characters as the server does and allows one @', () => {
    // Four emoji are eight UTF-16 units but four characters.
    expect(validateCredentials({ email: 'a@b', password: '😀😀😀😀' }, 'signup')).toEqual({
      password: 'Use at least 8 characters.',
    });
    const hanzi = '密码密码密码密码';
    expect(validateCredentials({ email: 'a@b', password: hanzi, confirm: hanzi }, 'signup')).toEqual({});
    expect(validateCredentials({ email: 'a@@b', password: 'longenough' }, 'login')).toEqual({
      email: expect.stringMatching(/email address/),
    });
  });
});
