import { useLayoutEffect, useRef } from 'react';
import { asSentence, formatBytes, formatPercent, raisesFirstLetter, STATUS_TEXT } from '../lib/format';
import { Link } from '../lib/router';
import { type UploadItem, isFinished } from '../lib/uploads';
import { Icon } from './Icon';

function phaseText(item: UploadItem): string {
  switch (item.phase) {
    case 'waiting':
      return 'Waiting';
    case 'uploading':
      return `Uploading ${formatPercent(item.progress, 0)}`;
    case 'cancelled':
      return 'Cancelled';
    case 'deleted':
      return 'Deleted';
    default:
      return STATUS_TEXT[item.phase];
  }
}

export function UploadRow({
  item,
  onDismiss,
  onCancel,
  onRetry,
}: {
  item: UploadItem;
  onDismiss(key: string): void;
  onCancel(key: string): void;
  onRetry(key: string): void;
}) {
  const top = item.image?.labels?.[0];
  const finished = isFinished(item.phase);
  const uploading = item.phase === 'waiting' || item.phase === 'uploading';
  const progress = Math.round(item.progress * 100);
  return (
    <li className={`upload-row phase-${item.phase}`} data-testid="upload-row" data-phase={item.phase}>
      <div className="upload-main">
        <div className="upload-name">
          {item.image && item.phase !== 'failed' ? (
            <Link to={`/images/${encodeURIComponent(item.image.id)}`}>{item.name}</Link>
          ) : (
            <span>{item.name}</span>
          )}
          {/* Precise, as a refusal over the size limit states it. */}
          <span className="muted small"> · {formatBytes(item.size, true)}</span>
        </div>
        <div
          className="progress"
          role="progressbar"
          aria-label={`Upload of ${item.name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progress}
        >
          <div className="progress-fill" style={{ width: `${progress}%` }} />
        </div>
        <div className="upload-status">
          <span className={`status-text status-${item.phase}`} data-testid="upload-status">
            {(item.phase === 'queued' || item.phase === 'processing') && (
              <span className="pulse" aria-hidden="true" />
            )}
            {phaseText(item)}
          </span>
          {item.phase === 'done' && top && (
            <span className="upload-label">
              <span className={raisesFirstLetter(top.name) ? 'label-text' : undefined}>{top.name}</span> <span className="muted">{formatPercent(top.confidence, 0)}</span>
            </span>
          )}
          {item.phase === 'failed' && item.error && (
            <span className="upload-error" role="note">
              {asSentence(item.error)}
            </span>
          )}
          {item.sameAs && (
            <span className="muted small" data-testid="same-photo">
              Same photo as {item.sameAs}: one in the gallery
            </span>
          )}
        </div>
      </div>
      {item.phase === 'failed' && item.retryable && (
        <button type="button" className="button ghost small" onClick={() => onRetry(item.key)} aria-label={`Retry upload of ${item.name}`}>
          Retry
        </button>
      )}
      {uploading ? (
        <button type="button" className="icon-button" onClick={() => onCancel(item.key)} aria-label={`Cancel upload of ${item.name}`}>
          <Icon name="x" />
        </button>
      ) : finished ? (
        <button type="button" className="icon-button" onClick={() => onDismiss(item.key)} aria-label={`Dismiss ${item.name}`}>
          <Icon name="x" />
        </button>
      ) : null}
    </li>
  );
}

export function UploadList({
  items,
  onDismiss,
  onCancel,
  onRetry,
  onClearFinished,
}: {
  items: UploadItem[];
  onDismiss(key: string): void;
  onCancel(key: string): void;
  onRetry(key: string): void;
  onClearFinished(): void;
}) {
  const section = useRef<HTMLElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // The row whose pressed control (Dismiss, Clear finished) goes with the press: focus moves
  // to the control of the row now there, or to the list's heading, not to <body>.
  const refocusAt = useRef<number | null>(null);
  useLayoutEffect(() => {
    const index = refocusAt.current;
    refocusAt.current = null;
    if (index === null) return;
    const focused = document.activeElement;
    if (focused && focused !== document.body && document.contains(focused)) return;
    const rows = section.current?.querySelectorAll<HTMLLIElement>('.upload-row') ?? [];
    const row = rows.length ? rows[Math.min(index, rows.length - 1)] : null;
    const target = row?.querySelector<HTMLElement>('button, a') ?? heading.current ?? document.getElementById('main');
    target?.focus();
  });
  const dismiss = (key: string) => {
    refocusAt.current = items.findIndex((item) => item.key === key);
    onDismiss(key);
  };

  if (items.length === 0) return null;
  const done = items.filter((item) => item.phase === 'done').length;
  const failed = items.filter((item) => item.phase === 'failed').length;
  const cancelled = items.filter((item) => item.phase === 'cancelled').length;
  const deleted = items.filter((item) => item.phase === 'deleted').length;
  const pending = items.length - done - failed - cancelled - deleted;
  const anyFinished = items.some((item) => isFinished(item.phase));
  return (
    <section ref={section} className="card uploads" aria-labelledby="uploads-title">
      <div className="section-head">
        <h2 id="uploads-title" className="h3" ref={heading} tabIndex={-1}>
          Uploads
        </h2>
        <p className="muted small" data-testid="upload-summary">
          {done} done{failed ? ` · ${failed} failed` : ''}
          {cancelled ? ` · ${cancelled} cancelled` : ''}
          {deleted ? ` · ${deleted} deleted` : ''}
          {pending ? ` · ${pending} in progress` : ''}
        </p>
        {anyFinished && (
          <button
            type="button"
            className="button ghost small"
            onClick={() => {
              refocusAt.current = 0;
              onClearFinished();
            }}
          >
            Clear finished
          </button>
        )}
      </div>
      <ul className="upload-list">
        {items.map((item) => (
          <UploadRow
            key={item.key}
            item={item}
            onDismiss={dismiss}
            onCancel={onCancel}
            onRetry={(key) => {
              // The row stays, but its buttons come and go with its phases: the list's heading
              // keeps the focus.
              heading.current?.focus();
              onRetry(key);
            }}
          />
        ))}
      </ul>
    </section>
  );
}
