// Uploads one file with XMLHttpRequest, which (unlike fetch) reports upload progress.
import { ApiError, CSRF_HEADER, CSRF_COOKIE, errorFromResponse, readCookie, reportUnauthorized } from './client';
import type { Image } from './types';

export interface UploadHandle {
  promise: Promise<Image>;
  abort: () => void;
}

/** (file, onProgress(fraction 0..1)) → handle; injectable so tests need no network. */
export type UploadFn = (file: File, onProgress: (fraction: number) => void) => UploadHandle;

export const xhrUpload: UploadFn = (file, onProgress) => {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Image>((resolve, reject) => {
    xhr.open('POST', '/api/v1/images');
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    const csrf = readCookie(CSRF_COOKIE);
    if (csrf) xhr.setRequestHeader(CSRF_HEADER, csrf);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          const body = JSON.parse(xhr.responseText) as { images?: Image[] };
          const image = body.images?.[0];
          if (!image) throw new Error('empty answer');
          onProgress(1);
          resolve(image);
        } catch {
          reject(new ApiError(xhr.status, 'bad_response', 'The server sent an unexpected answer.'));
        }
        return;
      }
      const error = errorFromResponse(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After'));
      // The session ended (elsewhere, or expired): the app goes to log-in at once, as it does
      // for the other requests.
      if (xhr.status === 401) reportUnauthorized(error);
      reject(error);
    };
    xhr.onerror = () =>
      reject(new ApiError(0, 'network_error', 'The upload was interrupted. Check your connection.'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
};
