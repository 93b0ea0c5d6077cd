import { formatPercent } from '../lib/format';

/** A horizontal bar for a probability; the number is in the text, the bar is decoration. */
export function ConfidenceBar({ value, label }: { value: number; label: string }) {
  const clamped = Math.max(0, Math.min(1, value));
  return (
    <div
      className="confidence"
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped * 1000) / 10}
      aria-valuetext={formatPercent(clamped)}
    >
      <div className="confidence-track" aria-hidden="true">
        <div className="confidence-fill" style={{ width: `${clamped * 100}%` }} />
      </div>
      <span className="confidence-value">{formatPercent(clamped)}</span>
    </div>
  );
}
