import { type FormEvent, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api/client';
import type { Image } from '../api/types';
import { ConfirmDialog } from '../components/Dialog';
import { Dropzone } from '../components/Dropzone';
import { Icon } from '../components/Icon';
import { useTitle } from '../components/Layout';
import { Spinner } from '../components/Spinner';
import { StatusBadge } from '../components/StatusBadge';
import { Thumbnail } from '../components/Thumbnail';
import { UploadList } from '../components/UploadList';
import { useAnnounce } from '../lib/announcer';
import { formatPercent, raisesFirstLetter } from '../lib/format';
import { useEventHub, useImageDeletions, useImageUpdates, useResync } from '../lib/live';
import { useAuth } from '../lib/auth';
import { Link, cameBackInHistory, navigate, useLocation } from '../lib/router';
import { matchesLabel } from '../lib/search';
import { isFinished, useUploads } from '../lib/uploads';

export const PAGE_SIZE = 30;

/** The gallery as it was left: Back from a photo returns to the same photos, scrolled as they were. */
interface LeftGallery {
  href: string;
  user: string;
  images: Image[];
  cursor: string;
  hasMore: boolean;
  matchWords: boolean;
  scrollY: number;
  /** The photo whose card was opened: Back gives its card the focus again. */
  openedId: string;
}
let left: LeftGallery | null = null;
export const SUGGESTED_CATEGORIES = ['dog', 'cat', 'bird', 'fish', 'insect', 'vehicle', 'car', 'food', 'fruit', 'plant', 'building', 'instrument'];

function upsert(list: Image[], image: Image, filter: string, words: boolean): Image[] {
  const index = list.findIndex((item) => item.id === image.id);
  if (index >= 0) {
    if (filter && image.status === 'done' && !matchesLabel(image, filter, words)) {
      return list.filter((item) => item.id !== image.id);
    }
    if (list[index].uploaded_at_ms === image.uploaded_at_ms) {
      const copy = list.slice();
      copy[index] = image;
      return copy;
    }
    // Uploaded again: it takes its new place, as the server lists it.
    list = list.filter((item) => item.id !== image.id);
  }
  if (filter && (image.status !== 'done' || !matchesLabel(image, filter, words))) return list;
  const at = list.findIndex((item) => item.uploaded_at_ms < image.uploaded_at_ms);
  if (at < 0) return [...list, image];
  return [...list.slice(0, at), image, ...list.slice(at)];
}

function useInfiniteScroll(onReach: () => void, enabled: boolean) {
  const sentinel = useRef<HTMLDivElement>(null);
  const callback = useRef(onReach);
  callback.current = onReach;
  useEffect(() => {
    const node = sentinel.current;
    if (!enabled || !node || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) callback.current();
      },
      { rootMargin: '800px 0px' },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [enabled]);
  return sentinel;
}

function GalleryCard({
  image,
  selecting,
  selected,
  onToggle,
}: {
  image: Image;
  selecting: boolean;
  selected: boolean;
  onToggle(id: string): void;
}) {
  const top = image.labels?.[0];
  const name = top?.name ?? image.filename;
  const body = (
    <>
      <div className="card-media">
        <Thumbnail image={image} alt={top ? `${top.name} — ${image.filename}` : image.filename} />
        {image.status !== 'done' && (
          <span className="card-badge">
            <StatusBadge status={image.status} />
          </span>
        )}
      </div>
      <div className="card-caption">
        <span className={`card-label${image.status === 'done' && top && raisesFirstLetter(top.name) ? ' label-text' : ''}`} title={name}>
          {image.status === 'done' ? name : image.status === 'failed' ? 'Could not classify' : image.filename}
        </span>
        {top && <span className="muted small">{formatPercent(top.confidence, 0)}</span>}
      </div>
    </>
  );
  return (
    <li className={`gallery-item${selected ? ' selected' : ''}`} data-testid="gallery-item" data-id={image.id}>
      {selecting ? (
        <label className="gallery-card selectable">
          <input
            type="checkbox"
            className="select-box"
            checked={selected}
            onChange={() => onToggle(image.id)}
            aria-label={`Select ${name}`}
          />
          {body}
        </label>
      ) : (
        <Link to={`/images/${encodeURIComponent(image.id)}`} className="gallery-card">
          {body}
        </Link>
      )}
    </li>
  );
}

export function Gallery() {
  const { search, href } = useLocation();
  const label = (search.get('label') ?? '').trim();
  useTitle(label ? `Photos of “${label}”` : 'Gallery');
  const uploads = useUploads();
  const announce = useAnnounce();
  const { user } = useAuth();
  const userKey = user ? String(user.id) : '';
  const hub = useEventHub();
  const [restored] = useState(() => {
    if (!cameBackInHistory() || left?.href !== href || left.user !== userKey) return null;
    // Events that came while the gallery was away: photos deleted or finished meanwhile.
    const images = left.images
      .filter((image) => !hub?.wasDeleted(image.id))
      .map((image) => hub?.freshest(image) ?? image);
    return { ...left, images };
  });
  const [images, setImages] = useState<Image[]>(restored?.images ?? []);
  const [cursor, setCursor] = useState(restored?.cursor ?? '');
  const [hasMore, setHasMore] = useState(restored?.hasMore ?? false);
  const [matchWords, setMatchWords] = useState(restored?.matchWords ?? false);
  const [loading, setLoading] = useState(!restored);
  const [error, setError] = useState('');
  const [query, setQuery] = useState(label);
  const [selecting, setSelecting] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const searchInput = useRef<HTMLInputElement>(null);
  const searchFocusPending = useRef(false);
  const focusSearchNext = () => {
    searchFocusPending.current = true;
  };
  const [deleting, setDeleting] = useState(false);
  const [notice, setNotice] = useState('');
  const generation = useRef(0);
  const loadingRef = useRef(false);
  // Read when a page comes: the hub may appear after the first render, and that must not
  // make load() change and the list load again.
  const hubRef = useRef(hub);
  hubRef.current = hub;

  const load = useCallback(
    async (reset: boolean, from: string) => {
      if (loadingRef.current && !reset) return;
      const mine = reset ? ++generation.current : generation.current;
      loadingRef.current = true;
      setLoading(true);
      setError('');
      try {
        const page = await api.listImages({ label: label || undefined, cursor: from || undefined, limit: PAGE_SIZE });
        if (mine !== generation.current) return;
        // An event may have come while the page was on its way.
        const fresh = page.images.map((image) => hubRef.current?.freshest(image) ?? image);
        setImages((current) => {
          const base = reset ? [] : current;
          const seen = new Set(base.map((image) => image.id));
          return [...base, ...fresh.filter((image) => !seen.has(image.id))];
        });
        setCursor(page.next_cursor ?? '');
        setHasMore(Boolean(page.next_cursor));
        if (reset) setMatchWords(page.label_match === 'words');
        // The grid changes where a screen reader is not: what a search found is said.
        if (reset && label) {
          const count = page.images.length;
          announce(
            count === 0
              ? `No photos of “${label}”`
              : `${page.next_cursor ? `${count} or more photos` : count === 1 ? '1 photo' : `${count} photos`} of “${label}”`,
          );
        }
      } catch (e) {
        if (mine !== generation.current) return;
        setError(e instanceof ApiError ? e.message : 'Could not load your photos.');
      } finally {
        if (mine === generation.current) {
          loadingRef.current = false;
          setLoading(false);
        }
      }
    },
    [label, announce],
  );

  // Remembered as the page is left; the scroll position as it last was, since a link scrolls
  // the page to the top before this component goes.
  const scrollY = useRef(restored?.scrollY ?? 0);
  const shown = useRef({ images, cursor, hasMore, matchWords });
  shown.current = { images, cursor, hasMore, matchWords };
  useEffect(() => {
    const onScroll = () => {
      scrollY.current = window.scrollY;
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => window.removeEventListener('scroll', onScroll);
  }, []);
  const openedId = useRef('');
  useEffect(
    () => () => {
      left = { href, user: userKey, ...shown.current, scrollY: scrollY.current, openedId: openedId.current };
    },
    [href, userKey],
  );
  useLayoutEffect(() => {
    if (!restored) return;
    window.scrollTo?.(0, restored.scrollY);
    // Where a keyboard or screen-reader user was: on the card of the photo they opened.
    const card = [...document.querySelectorAll<HTMLElement>('.gallery-item')].find(
      (item) => restored.openedId && item.dataset.id === restored.openedId,
    );
    card?.querySelector<HTMLElement>('a')?.focus({ preventScroll: true });
  }, [restored]);

  // A gallery restored by Back is not loaded again; live events keep it current from here.
  // Only its newest page is read once more, for photos uploaded elsewhere (another tab, a
  // script) while it was away: those the restored list lacks go before it.
  // The newest page read again, for what happened while events did not reach the list (the
  // gallery away, a lost stream, events the server no longer held): photos uploaded elsewhere
  // go in front, and those the server no longer lists within the page's span go.
  const refreshNewest = useCallback(() => {
    const mine = generation.current;
    api
      .listImages({ label: label || undefined, limit: PAGE_SIZE })
      .then((page) => {
        if (mine !== generation.current) return;
        const hub = hubRef.current;
        const fresh = page.images
          .filter((image) => !hub?.wasDeleted(image.id))
          .map((image) => hub?.freshest(image) ?? image);
        const listed = new Set(fresh.map((image) => image.id));
        // The whole gallery when no page follows; else down to the page's oldest photo.
        const spanStart = page.next_cursor ? (fresh.at(-1)?.uploaded_at_ms ?? Infinity) : -Infinity;
        setImages((current) => [
          ...fresh,
          ...current.filter((image) => !listed.has(image.id) && image.uploaded_at_ms <= spanStart),
        ]);
      })
      .catch(() => {});
  }, [label]);

  const skipFirstLoad = useRef(restored !== null);
  useEffect(() => {
    if (skipFirstLoad.current) {
      skipFirstLoad.current = false;
      refreshNewest();
      return;
    }
    setQuery(label);
    setImages([]);
    setSelected(new Set());
    // "Show all photos" goes with the search's results: the search box takes the focus.
    if (searchFocusPending.current) {
      searchFocusPending.current = false;
      searchInput.current?.focus();
    }
    // Back or a new search under an open "Delete N photos?" ends it: its photos are gone
    // from the page.
    setConfirming(false);
    setHasMore(false);
    loadingRef.current = false;
    load(true, '');
  }, [label, load, refreshNewest]);

  const loadMore = useCallback(() => {
    if (hasMore && !loadingRef.current && !error) load(false, cursor);
  }, [hasMore, cursor, load, error]);
  const sentinel = useInfiniteScroll(loadMore, hasMore && !error);
  const retry = () => load(images.length === 0, images.length ? cursor : '');
  // A stream reopened after a failure (the server back after a restart) is the moment to
  // try again, so the page does not wait for a click on Retry.
  useResync(() => (error ? retry() : refreshNewest()));

  useImageUpdates((image) => setImages((current) => upsert(current, image, label, matchWords)));
  useImageDeletions((id) => {
    setImages((current) => current.filter((image) => image.id !== id));
    // A photo deleted in another tab is no longer among those this one would delete.
    setSelected((current) => {
      if (!current.has(id)) return current;
      const left = new Set(current);
      left.delete(id);
      return left;
    });
  });

  // The button pressed to start or end select mode is replaced by the other toolbar, so
  // focus moves to what took its place rather than fall back to the page.
  const selectButton = useRef<HTMLButtonElement>(null);
  const selectAllButton = useRef<HTMLButtonElement>(null);
  const selectingBefore = useRef(selecting);
  useEffect(() => {
    if (!selecting) setSelected(new Set());
    if (selectingBefore.current === selecting) return;
    selectingBefore.current = selecting;
    (selecting ? selectAllButton : selectButton).current?.focus();
  }, [selecting]);

  useEffect(() => {
    if (!selecting) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !confirming) setSelecting(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selecting, confirming]);

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const term = query.trim().toLowerCase();
    navigate(term ? `/gallery?label=${encodeURIComponent(term)}` : '/gallery');
  };

  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const allSelected = images.length > 0 && images.every((image) => selected.has(image.id));

  const deleteSelected = async () => {
    setDeleting(true);
    const ids = [...selected];
    const failures: string[] = [];
    const removed: string[] = [];
    const queue = ids.slice();
    const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await api.deleteImage(id);
          removed.push(id);
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) removed.push(id);
          else failures.push(id);
        }
      }
    });
    await Promise.all(workers);
    const gone = new Set(removed);
    setImages((current) => current.filter((image) => !gone.has(image.id)));
    setSelected(new Set(failures));
    setDeleting(false);
    setConfirming(false);
    const message = failures.length
      ? `Deleted ${removed.length} of ${ids.length} photos; ${failures.length} could not be deleted.`
      : `Deleted ${removed.length} photo${removed.length === 1 ? '' : 's'}.`;
    setNotice(message);
    announce(message);
    if (!failures.length) setSelecting(false);
  };

  const empty = !loading && !error && images.length === 0;
  const hasUploads = uploads.items.length > 0;
  // The empty state brings its own picker; without it (its place taken by the upload list,
  // even one of failed uploads) the compact one must stay.
  const invite = empty && !label && !hasUploads;
  const uploading = uploads.items.some((item) => !isFinished(item.phase));

  return (
    <div className="gallery-page">
      <div className="page-head">
        <div>
          <h1>{label ? <>Photos of “{label}”</> : 'Your photos'}</h1>
          {label && (
            <p className="muted">
              {matchWords
                ? <>No label or category is “{label}”: labels with these words.</>
                : <>Labels and parent categories matching “{label}”.</>}{' '}
              <Link to="/gallery" onClick={focusSearchNext}>
                Show all photos
              </Link>
            </p>
          )}
        </div>
        <form className="search" role="search" onSubmit={onSearch}>
          <label htmlFor="label-search" className="visually-hidden">
            Search by label or category
          </label>
          <Icon name="search" />
          <input
            ref={searchInput}
            id="label-search"
            type="search"
            placeholder="Search: dog, bird, vehicle…"
            value={query}
            list="category-suggestions"
            onChange={(e) => setQuery(e.target.value)}
            autoComplete="off"
          />
          <datalist id="category-suggestions">
            {SUGGESTED_CATEGORIES.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
          <button type="submit" className="button primary">
            Search
          </button>
        </form>
      </div>

      <nav className="chips quick-filters" aria-label="Categories">
        {SUGGESTED_CATEGORIES.slice(0, 8).map((category) => (
          <Link
            key={category}
            to={label === category ? '/gallery' : `/gallery?label=${category}`}
            className="chip"
            aria-current={label === category ? 'true' : undefined}
          >
            {category}
          </Link>
        ))}
      </nav>

      {/* One picker, whose look changes with the page: a chooser open while the page changes
          between empty and not (it finished loading, the last photo went in another tab) must
          still deliver its files to an input that is there. */}
      <div className={invite ? 'empty-state card' : 'upload-zone'} data-testid={invite ? 'empty-state' : undefined}>
        {invite && (
          <>
            <h2>Upload your first photo</h2>
            <p className="muted">
              Drop a few pictures below. Argus labels each one in moments and tells you which dog breed it resembles.
            </p>
          </>
        )}
        <Dropzone onFiles={uploads.addFiles} compact={!invite} />
      </div>

      <UploadList
        items={uploads.items}
        onDismiss={uploads.dismiss}
        onCancel={uploads.cancel}
        onRetry={uploads.retry}
        onClearFinished={uploads.clearFinished}
      />

      {notice && (
        <div className="alert info" role="status">
          {notice}
          <button type="button" className="icon-button" onClick={() => setNotice('')} aria-label="Dismiss message">
            <Icon name="x" size={16} />
          </button>
        </div>
      )}

      {images.length > 0 && (
        <div className="toolbar" role="toolbar" aria-label="Selection">
          {selecting ? (
            <>
              <span className="muted" aria-live="polite" data-testid="selected-count">
                {selected.size} selected
              </span>
              <button
                ref={selectAllButton}
                type="button"
                className="button small"
                onClick={() => setSelected(allSelected ? new Set() : new Set(images.map((image) => image.id)))}
              >
                {allSelected ? 'Select none' : 'Select all'}
              </button>
              <button
                type="button"
                className="button danger small"
                disabled={selected.size === 0}
                onClick={() => setConfirming(true)}
              >
                <Icon name="trash" size={16} /> Delete{selected.size ? ` ${selected.size}` : ''}
              </button>
              <button type="button" className="button ghost small" onClick={() => setSelecting(false)}>
                Done
              </button>
            </>
          ) : (
            <button ref={selectButton} type="button" className="button small" onClick={() => setSelecting(true)}>
              <Icon name="check" size={16} /> Select
            </button>
          )}
        </div>
      )}

      {error && (
        <div className="alert error" role="alert">
          {error}{' '}
          <button type="button" className="button small" onClick={retry}>
            Retry
          </button>
        </div>
      )}

      {empty && !label && uploading && (
        <p className="muted center">Your photos will appear here as soon as they are uploaded.</p>
      )}
      {empty && label && (
        <section className="empty-state card" data-testid="empty-search">
          <h2>No photos of “{label}” yet</h2>
          <p className="muted">Try a broader category such as “animal” or “vehicle”, or upload more photos.</p>
          <Link to="/gallery" className="button" onClick={focusSearchNext}>
            Show all photos
          </Link>
        </section>
      )}

      {images.length > 0 && (
        <ul
          className={`gallery-grid${selecting ? ' selecting' : ''}`}
          aria-label="Photos"
          aria-busy={loading}
          onClickCapture={(event) => {
            const item = event.target instanceof Element ? event.target.closest('.gallery-item') : null;
            openedId.current = item?.getAttribute('data-id') ?? '';
          }}
        >
          {images.map((image) => (
            <GalleryCard
              key={image.id}
              image={image}
              selecting={selecting}
              selected={selected.has(image.id)}
              onToggle={toggle}
            />
          ))}
        </ul>
      )}

      <div ref={sentinel} className="sentinel" data-testid="scroll-sentinel" aria-hidden="true" />
      {loading && <Spinner label="Loading photos" />}
      {hasMore && !loading && !error && (
        <div className="center">
          <button type="button" className="button" onClick={loadMore}>
            Load more
          </button>
        </div>
      )}
      {!hasMore && !loading && images.length > PAGE_SIZE && (
        <p className="muted center small">That is all of them.</p>
      )}

      {confirming && (
        <ConfirmDialog
          title={`Delete ${selected.size} photo${selected.size === 1 ? '' : 's'}?`}
          message="The photos and their labels are removed for good. This cannot be undone."
          confirmLabel="Delete"
          busy={deleting}
          onConfirm={deleteSelected}
          onCancel={() => !deleting && setConfirming(false)}
        />
      )}
    </div>
  );
}
