import { useEffect, useRef, useState } from 'react';
import { ApiError, api, urls } from '../api/client';
import { type Image, isFinal, isLater } from '../api/types';
import { CategoryChips } from '../components/CategoryChips';
import { ConfidenceBar } from '../components/ConfidenceBar';
import { ConfirmDialog } from '../components/Dialog';
import { Icon } from '../components/Icon';
import { useTitle } from '../components/Layout';
import { Spinner } from '../components/Spinner';
import { StatusBadge } from '../components/StatusBadge';
import { useAnnounce } from '../lib/announcer';
import { STATUS_TEXT, asSentence, formatBytes, formatDate, formatDuration, formatPercent, labelTitle, raisesFirstLetter, withArticle } from '../lib/format';
import { useImageDeletions, useImageUpdates, useResync } from '../lib/live';
import { Link, navigate } from '../lib/router';
import { SEARCH_MIN_CONFIDENCE } from '../lib/search';


/**
 * Parent categories of the labels the photo is found by (the top one and any of at least
 * 10 %), most specific first, without repeats.
 */
export function categoriesOf(image: Image): string[] {
  const seen = new Set<string>();
  for (const [i, label] of (image.labels ?? []).entries()) {
    if (i > 0 && label.confidence < SEARCH_MIN_CONFIDENCE) continue;
    for (const parent of label.parents) seen.add(parent);
  }
  return [...seen];
}

function SpiritDog({ image }: { image: Image }) {
  const dog = image.spirit_dog;
  const [broken, setBroken] = useState(false);
  if (!dog) return null;
  return (
    <section className="card spirit" aria-labelledby="spirit-title" data-testid="spirit-dog">
      <div className="spirit-photo">
        {broken ? (
          <div className="thumb-placeholder" aria-hidden="true">
            <Icon name="paw" size={36} />
          </div>
        ) : (
          <img src={urls.breedPhoto(dog.wnid)} alt={`A ${dog.name}`} loading="lazy" onError={() => setBroken(true)} />
        )}
      </div>
      <div className="spirit-text">
        <h2 id="spirit-title" className="eyebrow">
          Spirit dog
        </h2>
        <p className={`spirit-name${raisesFirstLetter(dog.name) ? ' label-text' : ''}`}>{dog.name}</p>
        <ConfidenceBar value={dog.confidence} label={`${dog.name} likeness`} />
        <p className="muted small">
          Of all 118 dog breeds, this photo looks most like {withArticle(dog.name)} (
          {formatPercent(dog.confidence)}).
        </p>
      </div>
    </section>
  );
}

export function ImageDetail({ id }: { id: string }) {
  const [image, setImage] = useState<Image | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const [retrying, setRetrying] = useState(false);
  const [retryError, setRetryError] = useState('');
  /** The status line takes the focus from the Try again button that a new round removes. */
  const status = useRef<HTMLDivElement>(null);
  const [focusStatus, setFocusStatus] = useState(false);
  /** Deleted in another tab (or through the API) while this page showed it. */
  const [deletedElsewhere, setDeletedElsewhere] = useState(false);
  const announce = useAnnounce();
  useTitle(image ? (image.labels?.[0] ? labelTitle(image.labels[0].name) : image.filename) : 'Photo');

  // Bumped to load the photo again after a failure: by the Retry button, or once the live
  // stream is back after the server was gone.
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setImage(null);
    setError(null);
    api
      .getImage(id, controller.signal)
      .then(setImage)
      .catch((e) => {
        if ((e as Error)?.name === 'AbortError') return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'unknown', 'Could not load the photo.'));
      });
    return () => controller.abort();
  }, [id, attempt]);
  const loadAgain = () => setAttempt((count) => count + 1);

  useImageUpdates((update) => {
    if (update.id !== id) return;
    // The same photo uploaded again after it was deleted elsewhere is this page's again.
    setDeletedElsewhere(false);
    setImage((current) => {
      if (current && isLater(current, update)) return current;
      if (current && current.status !== update.status) {
        announce(`Status: ${STATUS_TEXT[update.status]}${update.status === 'done' && update.labels?.[0] ? `, ${update.labels[0].name}` : ''}`);
      }
      return update;
    });
  });

  useImageDeletions((deleted) => {
    if (deleted !== id || deleting) return;
    setDeletedElsewhere(true);
    announce('This photo was deleted.');
  });

  const pending = image !== null && !isFinal(image.status);
  const refresh = () => {
    api.getImage(id).then((fresh) => setImage((current) => (current && isLater(current, fresh) ? current : fresh))).catch(() => {});
  };
  useResync(() => {
    if (error && error.status !== 404) loadAgain();
    else if (pending) refresh();
  });
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(refresh, 10_000);
    return () => clearInterval(timer);
  }, [pending, id]);

  const onDelete = async () => {
    setDeleting(true);
    setDeleteError('');
    try {
      await api.deleteImage(id);
      announce('Photo deleted.');
      // Back would only find "Photo not found".
      navigate('/gallery', { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        navigate('/gallery', { replace: true });
        return;
      }
      setDeleteError(e instanceof ApiError ? e.message : 'Could not delete the photo.');
      setDeleting(false);
      setConfirming(false);
    }
  };

  const onRetry = async () => {
    setRetrying(true);
    setRetryError('');
    try {
      const queued = await api.retryImage(id);
      setImage((current) => (current && isLater(current, queued) ? current : queued));
      announce('Trying again: waiting for a worker.');
      setFocusStatus(true);
    } catch (e) {
      setRetryError(e instanceof ApiError ? e.message : 'Could not try again.');
    } finally {
      setRetrying(false);
    }
  };

  useEffect(() => {
    if (!focusStatus || !status.current) return;
    setFocusStatus(false);
    status.current.focus();
  });

  if (deletedElsewhere) {
    return (
      <section className="card empty-state" data-testid="detail-error">
        <h1>Photo deleted</h1>
        <p className="muted">It was deleted in another tab or window, or through the API.</p>
        <Link to="/gallery" className="button">
          Back to the gallery
        </Link>
      </section>
    );
  }
  if (error) {
    const missing = error.status === 404;
    return (
      <section className="card empty-state" data-testid="detail-error">
        <h1>{missing ? 'Photo not found' : 'Could not load the photo'}</h1>
        <p className="muted">{missing ? 'It may have been deleted, or it belongs to another account.' : error.message}</p>
        <div className="hero-actions">
          {!missing && (
            <button type="button" className="button primary" onClick={loadAgain}>
              Try again
            </button>
          )}
          <Link to="/gallery" className="button">
            Back to the gallery
          </Link>
        </div>
      </section>
    );
  }
  if (!image) return <Spinner label="Loading photo" />;

  const labels = (image.labels ?? []).slice(0, 5);
  const categories = categoriesOf(image);
  const title = labels[0]?.name ?? image.filename;

  return (
    <div className="detail">
      <Link to="/gallery" className="back-link">
        <Icon name="arrowLeft" size={18} /> Gallery
      </Link>
      <div className="detail-grid">
        <figure className="detail-photo card">
          <img src={urls.file(image.id)} alt={labels[0] ? `Photo: ${labels[0].name}` : image.filename} width={image.width || undefined} height={image.height || undefined} />
          <figcaption className="muted small">
            {image.filename} · {image.width}×{image.height} · {formatBytes(image.size_bytes)}
          </figcaption>
        </figure>
        <div className="detail-info">
          <div className="detail-head" ref={status} tabIndex={-1}>
            <h1 className={labels[0] && raisesFirstLetter(labels[0].name) ? 'label-text' : undefined}>{title}</h1>
            <StatusBadge status={image.status} />
          </div>
          {categories.length > 0 && <CategoryChips categories={categories} label="Parent categories" />}

          {pending && (
            <div className="alert info" data-testid="pending">
              <span className="pulse" aria-hidden="true" />
              {image.status === 'queued' ? 'Waiting for a worker…' : 'Classifying…'} This page updates by itself.
            </div>
          )}
          {image.status === 'failed' && (
            <div className="alert error" data-testid="failure">
              <span>
                <strong>Classification failed.</strong> {image.error ? asSentence(image.error) : 'No reason was given.'}
              </span>
              <button type="button" className="button small" onClick={onRetry} disabled={retrying}>
                {retrying ? 'Trying again…' : 'Try again'}
              </button>
              {retryError && (
                <p className="small" role="alert">
                  {retryError}
                </p>
              )}
            </div>
          )}

          {labels.length > 0 && (
            <section className="card" aria-labelledby="labels-title">
              <h2 id="labels-title" className="h3">
                Top {labels.length} labels
              </h2>
              <ol className="labels" data-testid="labels">
                {labels.map((label) => (
                  <li key={label.wnid} className="label-row">
                    <div className="label-line">
                      <span className={`label-name${raisesFirstLetter(label.name) ? ' label-text' : ''}`}>{label.name}</span>
                    </div>
                    <ConfidenceBar value={label.confidence} label={`${label.name} confidence`} />
                    {label.parents.length > 0 && (
                      <CategoryChips categories={label.parents} label={`Categories of ${label.name}`} linked={false} />
                    )}
                  </li>
                ))}
              </ol>
            </section>
          )}

          <SpiritDog image={image} />

          <section className="card" aria-labelledby="facts-title">
            <h2 id="facts-title" className="h3">
              Details
            </h2>
            <dl className="facts">
              <dt>Uploaded</dt>
              <dd>{formatDate(image.uploaded_at_ms)}</dd>
              <dt>File</dt>
              <dd>
                {image.content_type || 'image'} · {formatBytes(image.size_bytes)}
              </dd>
              {image.model && (
                <>
                  <dt>Model</dt>
                  <dd>{image.model}</dd>
                </>
              )}
              {image.timings?.queued_ms !== undefined && (
                <>
                  <dt>Waited in queue</dt>
                  <dd>{formatDuration(image.timings.queued_ms)}</dd>
                </>
              )}
              {/* A photo that failed before the model saw it had no inference. */}
              {image.timings?.inference_ms !== undefined && image.status === 'done' && (
                <>
                  <dt>Inference</dt>
                  <dd>{formatDuration(image.timings.inference_ms)}</dd>
                </>
              )}
              {image.timings?.total_ms !== undefined && (
                <>
                  <dt>Total</dt>
                  <dd>{formatDuration(image.timings.total_ms)}</dd>
                </>
              )}
            </dl>
            <div className="detail-actions">
              <a className="button" href={urls.file(image.id)} download={image.filename}>
                Download original
              </a>
              <button type="button" className="button danger" onClick={() => setConfirming(true)}>
                <Icon name="trash" size={16} /> Delete photo
              </button>
            </div>
            {deleteError && (
              <p className="field-error" role="alert">
                {deleteError}
              </p>
            )}
          </section>
        </div>
      </div>
      {confirming && (
        <ConfirmDialog
          title="Delete this photo?"
          message={`“${image.filename}” and its labels are removed for good.`}
          confirmLabel="Delete"
          busy={deleting}
          onConfirm={onDelete}
          onCancel={() => !deleting && setConfirming(false)}
        />
      )}
    </div>
  );
}
