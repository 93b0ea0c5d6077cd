// Keeps the last few minutes of ops samples in memory and derives the charted series.
import type { OpsStatus } from '../api/types';
import {
  type Bucket,
  type Sample,
  bucketDelta,
  histogramBuckets,
  histogramQuantile,
  labelValues,
  sumOf,
} from './metrics';

export const LATENCY_METRIC = 'argus_http_request_duration_seconds';
export const ALL_ROUTES = '*';
/** Routes left out of "all routes": the event stream is held open for up to 25 s. */
const LONG_POLL_ROUTES = ['/api/v1/events'];

export interface MetricsPoint {
  at: number;
  done: number;
  failed: number;
  requests: number;
  latency: Map<string, Bucket[]>; // route → cumulative buckets; ALL_ROUTES for the total
}

export interface StatusPoint {
  at: number;
  ready: number;
  inFlight: number;
  dead: number;
  /** Undefined where the web tier runs no scaler (`argus web`). */
  running?: number;
  desired?: number;
}

export interface Point {
  t: number;
  v: number;
}

export function metricsPoint(samples: Sample[], at: number): MetricsPoint {
  const latency = new Map<string, Bucket[]>();
  for (const route of labelValues(samples, `${LATENCY_METRIC}_bucket`, 'route')) {
    latency.set(route, histogramBuckets(samples, LATENCY_METRIC, { route }));
  }
  latency.set(
    ALL_ROUTES,
    histogramBuckets(samples, LATENCY_METRIC, {
      route: (route) => !LONG_POLL_ROUTES.includes(route),
    }),
  );
  return {
    at,
    done: sumOf(samples, 'argus_images_total', { status: 'done' }),
    failed: sumOf(samples, 'argus_images_total', { status: 'failed' }),
    requests: sumOf(samples, 'argus_http_requests_total'),
    latency,
  };
}

export function statusPoint(status: OpsStatus, at: number): StatusPoint {
  return {
    at,
    ready: status.queue.ready,
    inFlight: status.queue.in_flight,
    dead: status.queue.dead,
    running: status.scaler?.running,
    desired: status.scaler?.desired,
  };
}

/** Appends a point and drops those older than the window. */
export function appendWindow<T extends { at: number }>(points: T[], point: T, windowMs: number): T[] {
  const cutoff = point.at - windowMs;
  return [...points.filter((p) => p.at >= cutoff && p.at < point.at), point];
}

/** Per-second rate of a counter between consecutive points; resets count from zero. */
export function rateSeries(points: MetricsPoint[], pick: (p: MetricsPoint) => number): Point[] {
  const series: Point[] = [];
  for (let i = 1; i < points.length; i++) {
    const dt = (points[i].at - points[i - 1].at) / 1000;
    if (dt <= 0) continue;
    let delta = pick(points[i]) - pick(points[i - 1]);
    if (delta < 0) delta = pick(points[i]);
    series.push({ t: points[i].at, v: delta / dt });
  }
  return series;
}

export interface LatencySeries {
  p50: Point[];
  p95: Point[];
  p99: Point[];
}

/**
 * Latency percentiles over a sliding window (like rate(...[30s]) in PromQL): for each
 * point, the bucket counts since the latest point at least `windowMs` older. Intervals
 * without requests leave a gap.
 */
export function latencySeries(points: MetricsPoint[], route: string, windowMs = 30_000): LatencySeries {
  const result: LatencySeries = { p50: [], p95: [], p99: [] };
  for (let i = 1; i < points.length; i++) {
    let j = i - 1;
    while (j > 0 && points[i].at - points[j].at < windowMs) j--;
    const current = points[i].latency.get(route);
    if (!current) continue;
    const delta = bucketDelta(current, points[j].latency.get(route));
    const t = points[i].at;
    for (const [key, q] of [
      ['p50', 0.5],
      ['p95', 0.95],
      ['p99', 0.99],
    ] as const) {
      const v = histogramQuantile(q, delta);
      if (Number.isFinite(v)) result[key].push({ t, v: v * 1000 });
    }
  }
  return result;
}

/** The points where `pick` has a value. */
export function statusSeries(points: StatusPoint[], pick: (p: StatusPoint) => number | undefined): Point[] {
  return points.flatMap((p) => {
    const v = pick(p);
    return v === undefined ? [] : [{ t: p.at, v }];
  });
}
