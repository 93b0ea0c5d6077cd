// Prometheus text exposition format (version 0.0.4) parsing and histogram maths, so the
// ops dashboard can chart /metrics without a monitoring stack.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseValue(text: string): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
    default:
      return Number(text);
  }
}

/** Parses the label block after '{', returning the labels and the index after '}'. */
function parseLabels(line: string, start: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error('label without value');
    const name = line.slice(i, eq).trim();
    i = eq + 1;
    if (line[i] !== '"') throw new Error('unquoted label value');
    i++;
    let value = '';
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\' && i + 1 < line.length) {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else {
        value += line[i++];
      }
    }
    if (line[i] !== '"') throw new Error('unterminated label value');
    labels[name] = value;
    i++;
  }
  throw new Error('unterminated label set');
}

/** Parses the text format; malformed lines are skipped rather than failing the scrape. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    try {
      const brace = line.indexOf('{');
      const space = line.search(/\s/);
      let name: string;
      let labels: Record<string, string> = {};
      let rest: string;
      if (brace >= 0 && (space < 0 || brace < space)) {
        name = line.slice(0, brace);
        const [parsed, end] = parseLabels(line, brace + 1);
        labels = parsed;
        rest = line.slice(end).trim();
      } else {
        if (space < 0) continue;
        name = line.slice(0, space);
        rest = line.slice(space).trim();
      }
      const valueText = rest.split(/\s+/)[0];
      if (!name || valueText === undefined || valueText === '') continue;
      const value = parseValue(valueText);
      if (Number.isNaN(value) && valueText !== 'NaN') continue;
      samples.push({ name, labels, value });
    } catch {
      /* skip the malformed line */
    }
  }
  return samples;
}

export type LabelFilter = Record<string, string | ((value: string) => boolean)>;

function matches(labels: Record<string, string>, filter: LabelFilter = {}): boolean {
  for (const [key, want] of Object.entries(filter)) {
    const have = labels[key];
    if (typeof want === 'function') {
      if (have === undefined || !want(have)) return false;
    } else if (have !== want) return false;
  }
  return true;
}

export function select(samples: Sample[], name: string, filter?: LabelFilter): Sample[] {
  return samples.filter((s) => s.name === name && matches(s.labels, filter));
}

/** Sum of the matching series (0 when none). */
export function sumOf(samples: Sample[], name: string, filter?: LabelFilter): number {
  return select(samples, name, filter).reduce((total, s) => total + s.value, 0);
}

/** Distinct values of one label across a metric's series. */
export function labelValues(samples: Sample[], name: string, label: string): string[] {
  const values = new Set<string>();
  for (const s of samples) if (s.name === name && s.labels[label] !== undefined) values.add(s.labels[label]);
  return [...values].sort();
}

export interface Bucket {
  le: number;
  count: number;
}

/** Cumulative buckets of a histogram, summed over every series matching the filter. */
export function histogramBuckets(samples: Sample[], name: string, filter?: LabelFilter): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of select(samples, `${name}_bucket`, filter)) {
    if (s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    if (Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

/** Bucket counts observed between two scrapes (a counter reset yields the newer counts). */
export function bucketDelta(current: Bucket[], previous: Bucket[] | undefined): Bucket[] {
  if (!previous) return current;
  const before = new Map(previous.map((b) => [b.le, b.count]));
  const delta = current.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) }));
  if (delta.some((b) => b.count < 0)) return current;
  return delta;
}

/**
 * The q-quantile of cumulative buckets, interpolated linearly inside the bucket as
 * Prometheus' histogram_quantile does. NaN when there are no observations.
 */
export function histogramQuantile(q: number, buckets: Bucket[]): number {
  if (buckets.length === 0) return NaN;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1].count;
  if (!(total > 0)) return NaN;
  if (q <= 0) return 0;
  if (q >= 1) q = 1;
  const rank = q * total;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].count >= rank) {
      const upper = sorted[i].le;
      const lowerBound = i === 0 ? 0 : sorted[i - 1].le;
      const lowerCount = i === 0 ? 0 : sorted[i - 1].count;
      if (upper === Infinity) {
        // Beyond the largest finite bound: report that bound, as Prometheus does.
        return i === 0 ? NaN : sorted[i - 1].le;
      }
      const inBucket = sorted[i].count - lowerCount;
      if (inBucket <= 0) return upper;
      const lower = i === 0 && upper > 0 ? 0 : lowerBound;
      return lower + ((upper - lower) * (rank - lowerCount)) / inBucket;
    }
  }
  return sorted[sorted.length - 1].le;
}
