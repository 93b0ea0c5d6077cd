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
import { STATUS_TEXT } from './format';
import { useAnnounce } from './announcer';
import { useEventHub, useImageUpdates, useResync } from './live';
import { useServices } from './services';

export type UploadPhase = 'waiting' | 'uploading' | ImageStatus;

export interface UploadItem {
  key: string;
  name: string;
  size: number;
  phase: UploadPhase;
  /** Upload progress 0..1 (1 once the server has the bytes). */
  progress: number;
  error?: string;
  image?: Image;
  previewUrl?: string;
}

export const MAX_PARALLEL_UPLOADS = 3;
/** Images still pending this long without an event are fetched once more. */
export const STALE_AFTER_MS = 15_000;

const IMAGE_EXTENSIONS = /\.(jpe?g|png|gif|webp|avif|heic|heif|tiff?|bmp)$/i;

export function looksLikeImage(file: File): boolean {
  return file.type.startsWith('image/') || IMAGE_EXTENSIONS.test(file.name);
}

interface UploadsContextValue {
  items: UploadItem[];
  addFiles(files: Iterable<File>): void;
  dismiss(key: string): void;
  clearFinished(): void;
  cancel(key: string): void;
}

const UploadsContext = createContext<UploadsContextValue | null>(null);

let nextKey = 0;

function describe(item: UploadItem, image: Image): string {
  if (image.status === 'done') {
    const top = image.labels?.[0]?.name;
    return `${item.name}: done${top ? `, ${top}` : ''}`;
  }
  if (image.status === 'failed') return `${item.name}: failed${image.error ? `, ${image.error}` : ''}`;
  return `${item.name}: ${STATUS_TEXT[image.status].toLowerCase()}`;
}

export function UploadsProvider({ children }: { children: ReactNode }) {
  const { upload } = useServices();
  const hub = useEventHub();
  const announce = useAnnounce();
  const [items, setItems] = useState<UploadItem[]>([]);
  const files = useRef(new Map<string, File>());
  const aborts = useRef(new Map<string, () => void>());
  const active = useRef(0);
  const lastUpdate = useRef(new Map<string, number>());
  /** Latest state of recently seen images: an event can beat the upload's own answer. */
  const recent = useRef(new Map<string, Image>());
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const patch = useCallback((key: string, change: Partial<UploadItem>) => {
    setItems((current) => current.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  const pump = useCallback(() => {
    const waiting = itemsRef.current.filter(
      (item) => item.phase === 'waiting' && files.current.has(item.key) && !aborts.current.has(item.key),
    );
    for (const item of waiting) {
      if (active.current >= MAX_PARALLEL_UPLOADS) break;
      const file = files.current.get(item.key)!;
      active.current++;
      const handle = upload(file, (fraction) =>
        patch(item.key, { progress: Math.max(0, Math.min(1, fraction)) }),
      );
      aborts.current.set(item.key, handle.abort);
      patch(item.key, { phase: 'uploading' });
      handle.promise
        .then((answer) => {
          const seen = recent.current.get(answer.id);
          const image = seen && rank(seen.status) > rank(answer.status) ? seen : answer;
          lastUpdate.current.set(item.key, Date.now());
          setItems((current) =>
            current.map((it) => {
              if (it.key !== item.key) return it;
              // An event may already have moved the image further than the answer says.
              const newer = it.image && rank(it.image.status) > rank(image.status) ? it.image : image;
              return { ...it, progress: 1, phase: newer.status, image: newer, error: newer.error };
            }),
          );
          announce(describe(item, image));
          hub?.publish(image);
        })
        .catch((error: unknown) => {
          const message =
            error instanceof ApiError ? error.message : 'The upload failed. Please try again.';
          patch(item.key, { phase: 'failed', error: message });
          announce(`${item.name}: upload failed, ${message}`);
        })
        .finally(() => {
          active.current--;
          aborts.current.delete(item.key);
          files.current.delete(item.key);
          // Let React commit the state change before looking for the next file.
          setTimeout(() => pumpRef.current(), 0);
        });
    }
  }, [upload, patch, announce, hub]);
  const pumpRef = useRef(pump);
  pumpRef.current = pump;

  useEffect(() => {
    if (items.some((item) => item.phase === 'waiting')) pump();
  }, [items, pump]);

  const addFiles = useCallback((incoming: Iterable<File>) => {
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
          error: 'Not an image: choose JPEG, PNG, WebP, GIF, HEIC, AVIF or TIFF files.',
        });
        continue;
      }
      files.current.set(key, file);
      added.push({ key, name: file.name, size: file.size, phase: 'waiting', progress: 0 });
    }
    if (added.length === 0) return;
    setItems((current) => [...added, ...current]);
  }, []);

  // Status changes arrive over server-sent events.
  useImageUpdates((image) => {
    const known = recent.current.get(image.id);
    if (!known || rank(image.status) >= rank(known.status)) {
      recent.current.delete(image.id);
      recent.current.set(image.id, image);
      if (recent.current.size > 1000) recent.current.delete(recent.current.keys().next().value!);
    }
    const match = itemsRef.current.filter((item) => item.image?.id === image.id);
    if (match.length === 0) return;
    let changed = false;
    setItems((current) =>
      current.map((item) => {
        if (item.image?.id !== image.id) return item;
        if (rank(item.image.status) > rank(image.status)) return item;
        if (item.image.status !== image.status) changed = true;
        lastUpdate.current.set(item.key, Date.now());
        return { ...item, phase: image.status, image, error: image.error };
      }),
    );
    if (changed) announce(describe(match[0], image));
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
  useResync(() => refreshPending(false));
  const hasPending = items.some((item) => item.image && !isFinal(item.image.status));
  useEffect(() => {
    if (!hasPending) return;
    const timer = setInterval(() => refreshPending(true), STALE_AFTER_MS / 3);
    return () => clearInterval(timer);
  }, [hasPending, refreshPending]);

  const dismiss = useCallback((key: string) => {
    aborts.current.get(key)?.();
    files.current.delete(key);
    setItems((current) => current.filter((item) => item.key !== key));
  }, []);

  const cancel = useCallback((key: string) => {
    const abort = aborts.current.get(key);
    if (abort) abort();
    else if (files.current.has(key)) {
      files.current.delete(key);
      setItems((current) =>
        current.map((item) =>
          item.key === key ? { ...item, phase: 'failed', error: 'Upload cancelled.' } : item,
        ),
      );
    }
  }, []);

  const clearFinished = useCallback(() => {
    setItems((current) => current.filter((item) => !isFinal(item.phase as ImageStatus)));
  }, []);

  const value = useMemo(
    () => ({ items, addFiles, dismiss, clearFinished, cancel }),
    [items, addFiles, dismiss, clearFinished, cancel],
  );
  return <UploadsContext.Provider value={value}>{children}</UploadsContext.Provider>;
}

/** Orders statuses so a late, older answer never moves an image backwards. */
export function rank(status: ImageStatus): number {
  return status === 'queued' ? 0 : status === 'processing' ? 1 : 2;
}

export function useUploads(): UploadsContextValue {
  const value = useContext(UploadsContext);
  if (!value) throw new Error('useUploads outside UploadsProvider');
  return value;
}
