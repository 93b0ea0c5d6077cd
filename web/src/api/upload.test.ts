import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, onUnauthorized } from './client';
import { xhrUpload } from './upload';

/** An XMLHttpRequest that answers every send with `status` and `body`. */
function answeringWith(status: number, body: string) {
  return class {
    status = 0;
    responseText = '';
    upload = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    withCredentials = false;
    open() {}
    setRequestHeader() {}
    getResponseHeader() {
      return null;
    }
    abort() {}
    send() {
      this.status = status;
      this.responseText = body;
      queueMicrotask(() => this.onload?.());
    }
  };
}

describe('xhrUpload', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('tells the app the session has ended when the server answers 401', async () => {
    vi.stubGlobal('XMLHttpRequest', answeringWith(401, '{"error":{"code":"unauthorized","message":"log in first"}}'));
    const told: ApiError[] = [];
    const stop = onUnauthorized((error) => told.push(error));
    const { promise } = xhrUpload(new File(['x'], 'a.jpg', { type: 'image/jpeg' }), () => {});
    await expect(promise).rejects.toMatchObject({ status: 401 });
    stop();
    expect(told.map((error) => error.status)).toEqual([401]);
  });

  it('does not for other refusals', async () => {
    vi.stubGlobal('XMLHttpRequest', answeringWith(415, '{"error":{"code":"unsupported_media","message":"no"}}'));
    const told: ApiError[] = [];
    const stop = onUnauthorized((error) => told.push(error));
    await expect(xhrUpload(new File(['x'], 'a.jpg'), () => {}).promise).rejects.toMatchObject({ status: 415 });
    stop();
    expect(told).toEqual([]);
  });
});
