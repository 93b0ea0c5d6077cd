// The upload queue lives above the pages, so uploads keep going while the user browses.
import {
  type ReactNode,
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { ApiError, api } from '../api/client';
import { type Image, type ImageStatus, isFinal } from '../api/types';
import { STATUS_TEXT, formatBytes } from './format';
import { useAnnounce } from './announcer';
import { useEventHub, useImageDeletions, useImageUpdates, useResync } from './live';
import { useServices } from './services';

/** 'deleted': the photo was deleted since, here or in another tab. */
export type UploadPhase = 'waiting' | 'uploading' | 'cancelled' | 'deleted' | ImageStatus;

export interface UploadItem {
  key: string;
  name: string;
  size: number;
  phase: UploadPhase;
  /** Upload progress 0..1 (1 once the server has the bytes). */
  progress: number;
  error?: string;
  /** Failed for a reason that may pass (no connection, the server busy or stopping): the
   * file is kept, and `retry` sends it again. */
  retryable?: boolean;
  image?: Image;
  previewUrl?: string;
  /** Another row's file had the same bytes: one photo, shown once in the gallery. */
  sameAs?: string;
}

export const MAX_PARALLEL_UPLOADS = 3;
/** Images still pending this long without an event are fetched once more. */
export const STALE_AFTER_MS = 15_000;

/** What the server classifies (415 for anything else), as the picker and hints name them. */
export const IMAGE_FORMATS = 'JPEG, PNG, WebP, GIF, HEIC or AVIF';
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/heic', 'image/heif', 'image/avif'];
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.heic', '.heif', '.avif'];

export function looksLikeImage(file: File): boolean {
  const name = file.name.toLowerCase();
  return IMAGE_TYPES.includes(file.type) || IMAGE_EXTENSIONS.some((extension) => name.endsWith(extension));
}

export function isFinished(phase: UploadPhase): boolean {
  return phase === 'done' || phase === 'failed' || phase === 'cancelled' || phase === 'deleted';
}

/** "52.5 MB is over the 50 MB limit." */
function tooLarge(size: number, limit: number): string {
  return `${formatBytes(size, true)} is over the ${formatBytes(limit, true)} limit.`;
}

interface UploadsContextValue {
  items: UploadItem[];
  addFiles(files: Iterable<File>): void;
  dismiss(key: string): void;
  clearFinished(): void;
  cancel(key: string): void;
  retry(key: string): void;
}

const UploadsContext = createContext<UploadsContextValue | null>(null);

/** How many files wait to be sent or are being sent, for the log-out above the upload list. */
const UnsentContext = createContext<{ count: number; report(count: number): void }>({
  count: 0,
  report: () => {},
});

/** Holds the count of unsent files where the layout, outside the per-user upload list, sees it. */
export function UnsentUploadsProvider({ children }: { children: ReactNode }) {
  const [count, report] = useState(0);
  const value = useMemo(() => ({ count, report }), [count]);
  return <UnsentContext.Provider value={value}>{children}</UnsentContext.Provider>;
}

export function useUnsentUploads(): number {
  return useContext(UnsentContext).count;
}

let nextKey = 0;

function describe(item: UploadItem, image: Image): string {
  if (image.status === 'done') {
    const top = image.labels?.[0]?.name;
    return `${item.name}: done${top ? `, ${top}` : ''}`;
  }
  if (image.status === 'failed') return `${item.name}: failed${image.error ? `, ${image.error}` : ''}`;
  return `${item.name}: ${STATUS_TEXT[image.status].toLowerCase()}`;
}

/** The server's message without the file name its row already shows. */
function reason(error: unknown, name: string): string {
  if (!(error instanceof ApiError)) return 'The upload failed. Please try again.';
  return error.message.startsWith(`${name}: `) ? error.message.slice(name.length + 2) : error.message;
}

/** The same file may go through later: the connection dropped, or the server answered that
 * it is busy, stopping or failed (429, 5xx). Other answers concern the file itself. */
function mayPass(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  if (error.status === 0) return error.code !== 'aborted';
  return error.status === 429 || error.status >= 500;
}

/** A 413 names the server's limit (--max-bytes), which the client has no other way to learn. */
const OVER_LIMIT = /over the limit of (\d+) bytes/;

export function UploadsProvider({ children }: { children: ReactNode }) {
  const { upload } = useServices();
  const hub = useEventHub();
  const announce = useAnnounce();
  const [items, setItems] = useState<UploadItem[]>([]);
  const files = useRef(new Map<string, File>());
  const aborts = useRef(new Map<string, () => void>());
  const active = useRef(0);
  const lastUpdate = useRef(new Map<string, number>());
  const maxBytes = useRef<number | undefined>(undefined);
  // Changed together with the state rather than on render: an event that comes between an
  // upload's answer and the render showing it must still find the row.
  const itemsRef = useRef(items);
  const update = useCallback((change: (items: UploadItem[]) => UploadItem[]) => {
    itemsRef.current = change(itemsRef.current);
    setItems(itemsRef.current);
  }, []);

  const patch = useCallback(
    (key: string, change: Partial<UploadItem>) =>
      update((current) => current.map((item) => (item.key === key ? { ...item, ...change } : item))),
    [update],
  );

  const fail = useCallback(
    (item: UploadItem, message: string, retryable = false) => {
      patch(item.key, { phase: 'failed', error: message, retryable });
      announce(`${item.name}: upload failed, ${message}`);
    },
    [patch, announce],
  );

  // Set when the provider goes, which it does when the user logs out or another logs in
  // (App keys it by user): an upload still waiting must not go out under the next session.
  const closed = useRef(false);
  useEffect(() => {
    closed.current = false;
    return () => {
      closed.current = true;
      files.current.clear();
      for (const abort of aborts.current.values()) abort();
    };
  }, []);

  const pump = useCallback(() => {
    if (closed.current) return;
    const waiting = itemsRef.current.filter(
      (item) => item.phase === 'waiting' && files.current.has(item.key) && !aborts.current.has(item.key),
    );
    for (const item of waiting) {
      if (active.current >= MAX_PARALLEL_UPLOADS) break;
      const file = files.current.get(item.key)!;
      if (maxBytes.current !== undefined && file.size > maxBytes.current) {
        files.current.delete(item.key);
        fail(item, tooLarge(file.size, maxBytes.current));
        continue;
      }
      active.current++;
      const handle = upload(file, (fraction) =>
        patch(item.key, { progress: Math.max(0, Math.min(1, fraction)) }),
      );
      aborts.current.set(item.key, handle.abort);
      patch(item.key, { phase: 'uploading' });
      handle.promise
        .then((answer) => {
          const image = hub ? hub.freshest(answer) : answer;
          lastUpdate.current.set(item.key, Date.now());
          const twin = itemsRef.current.find((other) => other.key !== item.key && other.image?.id === image.id);
          patch(item.key, { progress: 1, phase: image.status, image, error: image.error, sameAs: twin?.name });
          announce(describe(item, image));
          hub?.publish(image);
        })
        .catch((error: unknown) => {
          const row = itemsRef.current.find((it) => it.key === item.key);
          if (!row || row.phase === 'cancelled') return;
          const limit = error instanceof ApiError && error.status === 413 ? OVER_LIMIT.exec(error.message) : null;
          if (limit) maxBytes.current = Number(limit[1]);
          if (limit) return fail(item, tooLarge(file.size, Number(limit[1])));
          fail(item, reason(error, item.name), mayPass(error));
        })
        .finally(() => {
          active.current--;
          aborts.current.delete(item.key);
          if (!itemsRef.current.find((it) => it.key === item.key)?.retryable) files.current.delete(item.key);
          pumpRef.current();
        });
    }
  }, [upload, patch, fail, announce, hub]);
  const pumpRef = useRef(pump);
  pumpRef.current = pump;

  const addFiles = useCallback(
    (incoming: Iterable<File>) => {
      const added: UploadItem[] = [];
      for (const file of incoming) {
        const key = `u${++nextKey}`;
        if (!looksLikeImage(file)) {
          added.push({
            key,
            name: file.name,
            size: file.size,
            phase: 'failed',
            progress: 0,
            error: `Not a supported image: choose ${IMAGE_FORMATS} files.`,
          });
          continue;
        }
        files.current.set(key, file);
        added.push({ key, name: file.name, size: file.size, phase: 'waiting', progress: 0 });
      }
      if (added.length === 0) return;
      update((current) => [...added, ...current]);
      const refused = added.filter((item) => item.phase === 'failed');
      if (refused.length > 0) {
        announce(
          `${refused.map((item) => item.name).join(', ')}: not ${refused.length === 1 ? 'a supported image' : 'supported images'}`,
        );
      }
      if (added.length > 1) for (const item of added) batch.current.add(item.key);
      pump();
    },
    [update, pump, announce],
  );

  // Status changes arrive over server-sent events.
  useImageUpdates((image) => {
    const match = itemsRef.current.find((item) => item.image?.id === image.id);
    // Otherwise the hub remembers the image for when the upload's answer comes.
    if (!match?.image) return;
    update((current) =>
      current.map((item) => {
        if (item.image?.id !== image.id) return item;
        lastUpdate.current.set(item.key, Date.now());
        return { ...item, phase: image.status, image, error: image.error };
      }),
    );
    if (match.image.status !== image.status) announce(describe(match, image));
  });

  // A reopened stream may have missed events; so may a lost event: ask the server.
  const refreshPending = useCallback(
    (onlyStale: boolean) => {
      const now = Date.now();
      for (const item of itemsRef.current) {
        if (!item.image || isFinal(item.image.status)) continue;
        if (onlyStale && now - (lastUpdate.current.get(item.key) ?? now) < STALE_AFTER_MS) continue;
        lastUpdate.current.set(item.key, now);
        api
          .getImage(item.image.id)
          .then((image) => hub?.publish(image))
          .catch(() => {});
      }
    },
    [hub],
  );
  // A row keeps no link to a deleted photo, nor takes the events of the same bytes uploaded
  // again: that upload has a row of its own.
  useImageDeletions((id) => {
    if (!itemsRef.current.some((item) => item.image?.id === id)) return;
    update((current) =>
      current.map((item) =>
        item.image?.id === id
          ? { ...item, phase: 'deleted', image: undefined, error: undefined, sameAs: undefined }
          : item,
      ),
    );
  });

  const retry = useCallback(
    (key: string) => {
      if (!files.current.has(key)) return;
      patch(key, { phase: 'waiting', progress: 0, error: undefined, retryable: false });
      pumpRef.current();
    },
    [patch],
  );

  // The server is back: what failed because it was gone or stopping goes again by itself.
  useResync(() => {
    refreshPending(false);
    for (const item of itemsRef.current) {
      if (item.phase === 'failed' && item.retryable) retry(item.key);
    }
  });
  // The rows of a drop of many files, read out in one sentence once all have settled: their
  // news one by one would replace one another in the live region, failures included.
  const batch = useRef(new Set<string>());
  useEffect(() => {
    if (batch.current.size === 0) return;
    const rows = items.filter((item) => batch.current.has(item.key));
    if (!rows.every((item) => isFinished(item.phase))) return;
    batch.current.clear();
    const count = (phase: UploadPhase) => rows.filter((item) => item.phase === phase).length;
    const parts = [`${count('done')} done`, `${count('failed')} failed`];
    if (count('cancelled') > 0) parts.push(`${count('cancelled')} cancelled`);
    if (count('deleted') > 0) parts.push(`${count('deleted')} deleted`);
    announce(`Uploads finished: ${parts.join(', ')}.`);
  }, [items, announce]);

  // Closing or reloading the tab would drop the files not yet sent: the browser asks first,
  // and so does the log-out.
  const unsent = items.filter((item) => item.phase === 'waiting' || item.phase === 'uploading').length;
  const sending = unsent > 0;
  const { report } = useContext(UnsentContext);
  useEffect(() => {
    report(unsent);
    return () => report(0);
  }, [unsent, report]);
  useEffect(() => {
    if (!sending) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [sending]);

  const hasPending = items.some((item) => item.image && !isFinal(item.image.status));
  useEffect(() => {
    if (!hasPending) return;
    const timer = setInterval(() => refreshPending(true), STALE_AFTER_MS / 3);
    return () => clearInterval(timer);
  }, [hasPending, refreshPending]);

  const dismiss = useCallback(
    (key: string) => {
      aborts.current.get(key)?.();
      files.current.delete(key);
      update((current) => current.filter((item) => item.key !== key));
    },
    [update],
  );

  const cancel = useCallback(
    (key: string) => {
      files.current.delete(key);
      update((current) =>
        current.map((item) =>
          item.key === key && (item.phase === 'waiting' || item.phase === 'uploading')
            ? { ...item, phase: 'cancelled' }
            : item,
        ),
      );
      aborts.current.get(key)?.();
    },
    [update],
  );

  const clearFinished = useCallback(() => {
    for (const item of itemsRef.current) {
      if (isFinished(item.phase)) files.current.delete(item.key);
    }
    update((current) => current.filter((item) => !isFinished(item.phase)));
  }, [update]);

  const value = useMemo(
    () => ({ items, addFiles, dismiss, clearFinished, cancel, retry }),
    [items, addFiles, dismiss, clearFinished, cancel, retry],
  );
  return <UploadsContext.Provider value={value}>{children}</UploadsContext.Provider>;
}

export function useUploads(): UploadsContextValue {
  const value = useContext(UploadsContext);
  if (!value) throw new Error('useUploads outside UploadsProvider');
  return value;
}
