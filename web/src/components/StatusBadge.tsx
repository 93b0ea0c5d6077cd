import type { ImageStatus } from '../api/types';
import { STATUS_TEXT } from '../lib/format';

export function StatusBadge({ status }: { status: ImageStatus }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {(status === 'queued' || status === 'processing') && <span className="pulse" aria-hidden="true" />}
      {STATUS_TEXT[status]}
    </span>
  );
}
