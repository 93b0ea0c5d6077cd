import type { Image } from '../api/types';

/** Labels below this confidence (after the top one) are not search terms, as on the server. */
export const SEARCH_MIN_CONFIDENCE = 0.1;

/**
 * A term or query as the server compares them: its words, split at whitespace, hyphens,
 * underscores, full stops and parentheses, joined by one space, without apostrophes, in
 * lower case ("St. Bernard" is "st bernard", "Shih-Tzu" "shih tzu", "crane (bird)" "crane
 * bird", "lady’s slipper" "ladys slipper").
 */
export function searchKey(text: string): string {
  return text
    .replace(/['’]/g, '')
    .split(/[\s\-_.()]+/)
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

/**
 * Whether a (done) image belongs in a search for term, mirroring the server's search
 * terms: the top label and any label of at least 10 %, also by its name without a
 * qualifier ("crane" for "crane (bird)"), with their parent categories. With `words` (the
 * server's `label_match: "words"`), a term need only hold the term's words, in order.
 */
export function matchesLabel(image: Image, term: string, words = false): boolean {
  const key = searchKey(term);
  // No search lists every photo; one of separators alone finds none, as on the server.
  if (!key) return term.trim() === '';
  const matches = (name: string) =>
    words ? ` ${searchKey(name)} `.includes(` ${key} `) : searchKey(name) === key;
  return (image.labels ?? []).some(
    (label, i) =>
      (i === 0 || label.confidence >= SEARCH_MIN_CONFIDENCE) &&
      (matches(label.name) || matches(label.name.replace(/ \(.*\)$/, '')) || label.parents.some(matches)),
  );
}
