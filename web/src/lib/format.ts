import type { ImageStatus } from '../api/types';

/** `precise` keeps one decimal on large values too, for sizes compared with a limit. */
export function formatBytes(bytes: number, precise = false): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (precise) return `${Math.round(value * 10) / 10} ${units[unit]}`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatPercent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return '–';
  const percent = fraction * 100;
  if (percent > 0 && percent < 0.1) return '<0.1%';
  return `${percent.toFixed(percent >= 99.95 || percent === 0 ? 0 : digits)}%`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export function formatSeconds(seconds: number): string {
  return formatDuration(seconds * 1000);
}

export function formatDate(ms: number): string {
  if (!ms) return '–';
  return new Date(ms).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function relativeTime(ms: number, now = Date.now()): string {
  if (!ms) return 'never';
  const seconds = Math.round((now - ms) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 30) return `${days} d ago`;
  return formatDate(ms);
}

/** The words people see for each status. */
export const STATUS_TEXT: Record<ImageStatus, string> = {
  queued: 'Queued',
  processing: 'Classifying',
  done: 'Done',
  failed: 'Failed',
};

/** "a golden retriever", "an Afghan hound": the article by the first letter, as breed names go. */
export function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * A server's reason as the page's own messages read: a capital first letter, and counts
 * grouped by thousands ("image is 12000 x 9000 pixels" → "Image is 12,000 x 9,000 pixels").
 * Digits inside a word, as in an image id, are left alone.
 */
export function asSentence(reason: string): string {
  return titleCase(reason.replace(/(?<![\w.])\d{4,}(?![\w.])/g, (digits) => Number(digits).toLocaleString('en-US')));
}

/** Whether a label's first letter is raised where it is shown: not in a first word that is
 * cased already ("iPod" is no "IPod"). */
export function raisesFirstLetter(label: string): boolean {
  return !/[A-Z]/.test(label.split(' ')[0]);
}

/** A label as a title: its first letter raised, unless its first word is cased already. */
export function labelTitle(label: string): string {
  return raisesFirstLetter(label) ? titleCase(label) : label;
}

export function titleCase(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
