import type { Image } from '../api/types';

/** Labels below this confidence (after the top one) are not search terms, as on the server. */
export const SEARCH_MIN_CONFIDENCE = 0.1;

/**
 * Whether a (done) image belongs in a search for term, mirroring the server's search
 * terms: the top label and any label of at least 10 %, with their parent categories.
 */
export function matchesLabel(image: Image, term: string): boolean {
  const t = term.trim().toLowerCase();
  if (!t) return true;
  return (image.labels ?? []).some(
    (label, i) =>
      (i === 0 || label.confidence >= SEARCH_MIN_CONFIDENCE) &&
      (label.name.toLowerCase() === t || label.parents.some((p) => p.toLowerCase() === t)),
  );
}
