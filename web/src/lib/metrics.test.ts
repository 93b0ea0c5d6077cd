import { describe, expect, it } from 'vitest';
import {
  bucketDelta,
  histogramBuckets,
  histogramQuantile,
  labelValues,
  parseMetrics,
  sumOf,
} from './metrics';
import { ALL_ROUTES, appendWindow, latencySeries, metricsPoint, rateSeries } from './opsHistory';

export const SAMPLE = `# HELP argus_http_requests_total HTTP requests by route, method and status
# TYPE argus_http_requests_total counter
argus_http_requests_total{route="/",method="POST",status="200"} 40
argus_http_requests_total{route="/api/v1/images",method="POST",status="202"} 5
# HELP argus_http_request_duration_seconds HTTP request latency by route
# TYPE argus_http_request_duration_seconds histogram
argus_http_request_duration_seconds_bucket{route="/",le="0.005"} 10
argus_http_request_duration_seconds_bucket{route="/",le="0.01"} 30
argus_http_request_duration_seconds_bucket{route="/",le="0.05"} 38
argus_http_request_duration_seconds_bucket{route="/",le="+Inf"} 40
argus_http_request_duration_seconds_sum{route="/"} 0.5
argus_http_request_duration_seconds_count{route="/"} 40
argus_http_request_duration_seconds_bucket{route="/api/v1/events",le="0.005"} 0
argus_http_request_duration_seconds_bucket{route="/api/v1/events",le="0.01"} 0
argus_http_request_duration_seconds_bucket{route="/api/v1/events",le="0.05"} 0
argus_http_request_duration_seconds_bucket{route="/api/v1/events",le="+Inf"} 9
# TYPE argus_images_total counter
argus_images_total{status="done"} 120
argus_images_total{status="failed"} 3
# TYPE argus_queue_jobs gauge
argus_queue_jobs{state="ready"} 7
argus_workers{state="running"} 2 1700000000000
weird_metric{path="a \\"quoted\\" \\\\ value\\n"} 1.5e3
not a metric line at all {{{
`;

describe('parseMetrics', () => {
  const samples = parseMetrics(SAMPLE);

  it('reads names, labels and values and skips comments', () => {
    expect(sumOf(samples, 'argus_images_total', { status: 'done' })).toBe(120);
    expect(sumOf(samples, 'argus_images_total')).toBe(123);
    expect(sumOf(samples, 'argus_queue_jobs', { state: 'ready' })).toBe(7);
    expect(samples.some((s) => s.name.startsWith('#'))).toBe(false);
  });

  it('accepts a timestamp after the value', () => {
    expect(sumOf(samples, 'argus_workers', { state: 'running' })).toBe(2);
  });

  it('unescapes label values and parses exponents', () => {
    const weird = samples.find((s) => s.name === 'weird_metric')!;
    expect(weird.labels.path).toBe('a "quoted" \\ value\n');
    expect(weird.value).toBe(1500);
  });

  it('parses +Inf bucket bounds and lists label values', () => {
    const buckets = histogramBuckets(samples, 'argus_http_request_duration_seconds', { route: '/' });
    expect(buckets.map((b) => b.le)).toEqual([0.005, 0.01, 0.05, Infinity]);
    expect(labelValues(samples, 'argus_http_request_duration_seconds_bucket', 'route')).toEqual(['/', '/api/v1/events']);
  });
});

describe('histogramQuantile', () => {
  const buckets = [
    { le: 0.005, count: 10 },
    { le: 0.01, count: 30 },
    { le: 0.05, count: 38 },
    { le: Infinity, count: 40 },
  ];

  it('interpolates inside the bucket like Prometheus', () => {
    // rank 20 is the 10th of 20 observations in (0.005, 0.01]
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.0075, 6);
    // rank 4 is in the first bucket (0, 0.005]
    expect(histogramQuantile(0.1, buckets)).toBeCloseTo(0.002, 6);
    // rank 38 is the upper edge of (0.01, 0.05]
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(0.05, 6);
  });

  it('reports the largest finite bound for the +Inf bucket', () => {
    expect(histogramQuantile(0.99, buckets)).toBe(0.05);
  });

  it('is NaN without observations', () => {
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeNaN();
  });

  it('subtracts scrapes and survives counter resets', () => {
    const earlier = buckets.map((b) => ({ ...b, count: b.count / 2 }));
    expect(bucketDelta(buckets, earlier).map((b) => b.count)).toEqual([5, 15, 19, 20]);
    const reset = buckets.map((b) => ({ ...b, count: 1 }));
    expect(bucketDelta(reset, buckets)).toEqual(reset);
  });
});

describe('ops history', () => {
  const scrape = (done: number, fast: number, slow: number, at: number) =>
    metricsPoint(
      parseMetrics(`argus_images_total{status="done"} ${done}
argus_http_request_duration_seconds_bucket{route="/",le="0.01"} ${fast}
argus_http_request_duration_seconds_bucket{route="/",le="0.1"} ${fast + slow}
argus_http_request_duration_seconds_bucket{route="/",le="+Inf"} ${fast + slow}
argus_http_request_duration_seconds_bucket{route="/api/v1/events",le="0.01"} 0
argus_http_request_duration_seconds_bucket{route="/api/v1/events",le="0.1"} 0
argus_http_request_duration_seconds_bucket{route="/api/v1/events",le="+Inf"} 50
`),
      at,
    );

  it('turns the done counter into images per second', () => {
    const points = [scrape(0, 0, 0, 0), scrape(30, 0, 0, 3000), scrape(30, 0, 0, 6000), scrape(5, 0, 0, 9000)];
    expect(rateSeries(points, (p) => p.done).map((p) => p.v)).toEqual([10, 0, 5 / 3]);
  });

  it('computes percentiles of the requests in the window, in ms', () => {
    const points = [scrape(0, 0, 0, 0), scrape(0, 90, 10, 3000)];
    const series = latencySeries(points, '/');
    expect(series.p50[0].v).toBeCloseTo((0.01 * 50) / 90 * 1000, 3);
    expect(series.p99[0].v).toBeCloseTo((0.01 + 0.09 * 0.9) * 1000, 3);
  });

  it('leaves the event stream out of "all routes"', () => {
    const points = [scrape(0, 0, 0, 0), scrape(0, 10, 0, 3000)];
    const series = latencySeries(points, ALL_ROUTES);
    expect(series.p99[0].v).toBeLessThanOrEqual(10);
  });

  it('leaves gaps when nothing was requested', () => {
    const points = [scrape(0, 5, 0, 0), scrape(0, 5, 0, 3000)];
    expect(latencySeries(points, '/').p50).toEqual([]);
  });

  it('keeps only the last window of points', () => {
    let points: { at: number }[] = [];
    for (let at = 0; at <= 400_000; at += 100_000) points = appendWindow(points, { at }, 300_000);
    expect(points.map((p) => p.at)).toEqual([100_000, 200_000, 300_000, 400_000]);
  });
});
