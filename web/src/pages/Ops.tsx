import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api } from '../api/client';
import type { OpsStatus } from '../api/types';
import { LineChart } from '../components/LineChart';
import { useTitle } from '../components/Layout';
import { Spinner } from '../components/Spinner';
import { formatDuration, formatTime } from '../lib/format';
import { parseMetrics } from '../lib/metrics';
import {
  ALL_ROUTES,
  type MetricsPoint,
  type StatusPoint,
  appendWindow,
  latencySeries,
  metricsPoint,
  rateSeries,
  statusPoint,
  statusSeries,
} from '../lib/opsHistory';
import { useServices } from '../lib/services';

export const WINDOW_MS = 5 * 60_000;

const count = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const perSecond = (v: number) => `${v < 10 ? v.toFixed(v < 1 && v > 0 ? 2 : 1) : Math.round(v)}/s`;
const ms = (v: number) => (v === 0 ? '0' : formatDuration(v));

/** A decision's colour: more workers, fewer, crashed ones replaced, or a scale-out held back. */
function decisionBadge(action: string) {
  if (action === 'restart') return 'failed';
  if (action.includes('out')) return 'processing';
  return action.includes('in') ? 'queued' : 'done';
}

function Tile({ label, value, hint, tone }: { label: string; value: string; hint?: string; tone?: 'warn' | 'bad' }) {
  return (
    <div className={`tile${tone ? ` tile-${tone}` : ''}`}>
      <dt>{label}</dt>
      <dd>
        <span className="tile-value">{value}</span>
        {hint && <span className="muted small tile-hint">{hint}</span>}
      </dd>
    </div>
  );
}

export interface OpsChartsProps {
  metrics: MetricsPoint[];
  statuses: StatusPoint[];
  route: string;
  now: number;
}

/** The four charts, from in-memory samples (pure: tested with sample metrics). */
export function OpsCharts({ metrics, statuses, route, now }: OpsChartsProps) {
  const latency = useMemo(() => latencySeries(metrics, route), [metrics, route]);
  // Under `argus web` the status has no scaler: its workers are counted elsewhere.
  const scalerHere = statuses.length === 0 || statuses.some((p) => p.running !== undefined);
  const counts = { now, windowMs: WINDOW_MS, format: count, integer: true, minMax: 4 };
  return (
    <div className="charts">
      <LineChart
        title="Queue"
        {...counts}
        series={[
          { name: 'ready', color: 'var(--series-1)', points: statusSeries(statuses, (p) => p.ready) },
          { name: 'in flight', color: 'var(--series-2)', points: statusSeries(statuses, (p) => p.inFlight) },
          { name: 'dead letter', color: 'var(--series-4)', points: statusSeries(statuses, (p) => p.dead) },
        ]}
      />
      {scalerHere && (
        <LineChart
          title="Workers"
          {...counts}
          series={[
            { name: 'running', color: 'var(--series-1)', points: statusSeries(statuses, (p) => p.running) },
            { name: 'desired', color: 'var(--series-3)', points: statusSeries(statuses, (p) => p.desired) },
          ]}
        />
      )}
      <LineChart
        title="Throughput"
        now={now}
        windowMs={WINDOW_MS}
        format={perSecond}
        minMax={1}
        series={[
          { name: 'done', color: 'var(--series-2)', points: rateSeries(metrics, (p) => p.done) },
          { name: 'failed', color: 'var(--series-4)', points: rateSeries(metrics, (p) => p.failed) },
        ]}
      />
      <LineChart
        title="Latency"
        now={now}
        windowMs={WINDOW_MS}
        format={ms}
        minMax={1}
        series={[
          { name: 'p50', color: 'var(--series-1)', points: latency.p50 },
          { name: 'p95', color: 'var(--series-3)', points: latency.p95 },
          { name: 'p99', color: 'var(--series-4)', points: latency.p99 },
        ]}
      />
    </div>
  );
}

export function Ops() {
  useTitle('Operations');
  const { opsIntervalMs } = useServices();
  const [status, setStatus] = useState<OpsStatus | null>(null);
  const [statuses, setStatuses] = useState<StatusPoint[]>([]);
  const [metrics, setMetrics] = useState<MetricsPoint[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [metricsError, setMetricsError] = useState('');
  const [route, setRoute] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [paused, setPaused] = useState(false);
  const forbidden = error?.status === 403;
  const inFlight = useRef(false);

  useEffect(() => {
    if (paused || forbidden) return;
    let cancelled = false;
    const tick = async () => {
      if (inFlight.current) return;
      inFlight.current = true;
      const at = Date.now();
      const [statusResult, metricsResult] = await Promise.allSettled([api.opsStatus(), api.metricsText()]);
      inFlight.current = false;
      if (cancelled) return;
      setNow(at);
      if (statusResult.status === 'fulfilled') {
        setStatus(statusResult.value);
        setStatuses((points) => appendWindow(points, statusPoint(statusResult.value, at), WINDOW_MS));
        setError(null);
      } else {
        const reason = statusResult.reason;
        setError(reason instanceof ApiError ? reason : new ApiError(0, 'unknown', 'Could not load the status.'));
      }
      if (metricsResult.status === 'fulfilled') {
        setMetrics((points) => appendWindow(points, metricsPoint(parseMetrics(metricsResult.value), at), WINDOW_MS));
        setMetricsError('');
      } else {
        setMetricsError('Metrics are unavailable right now.');
      }
    };
    tick();
    const timer = setInterval(tick, opsIntervalMs);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [opsIntervalMs, paused, forbidden]);

  const routes = useMemo(() => {
    const last = metrics[metrics.length - 1];
    return last ? [...last.latency.keys()].filter((r) => r !== ALL_ROUTES) : [];
  }, [metrics]);
  const chosenRoute = route ?? (routes.includes('/') ? '/' : ALL_ROUTES);

  if (forbidden) {
    return (
      <section className="card empty-state" data-testid="ops-forbidden">
        <h1>Administrators only</h1>
        <p className="muted">The operations dashboard is available to administrator accounts.</p>
      </section>
    );
  }

  const throughput = rateSeries(metrics.slice(-2), (p) => p.done)[0]?.v;
  const latency = latencySeries(metrics, chosenRoute);
  const p95 = latency.p95[latency.p95.length - 1]?.v;
  const scaler = status?.scaler;
  const decisions = [...(scaler?.decisions ?? [])].sort((a, b) => b.at_ms - a.at_ms);

  return (
    <div className="ops">
      <div className="page-head">
        <div>
          <h1>Operations</h1>
          <p className="muted small" aria-live="off">
            {status ? `Updated ${formatTime(now)} · sampling every ${Math.round(opsIntervalMs / 1000)} s, last 5 minutes kept` : 'Connecting…'}
          </p>
        </div>
        <div className="head-actions">
          <label className="select-field">
            <span>Latency route</span>
            <select value={chosenRoute} onChange={(e) => setRoute(e.target.value)}>
              <option value={ALL_ROUTES}>All routes (no event stream)</option>
              {routes.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="button small" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
            {paused ? 'Resume' : 'Pause'}
          </button>
        </div>
      </div>

      {error && !forbidden && (
        <div className="alert error" role="alert">
          {error.message}
        </div>
      )}
      {metricsError && <div className="alert warn">{metricsError}</div>}
      {!status && !error && <Spinner label="Loading the status" />}

      {status && (
        <dl className="tiles" data-testid="ops-tiles">
          <Tile label="Queue depth" value={String(status.queue.ready)} hint="ready jobs" tone={status.queue.ready > 100 ? 'warn' : undefined} />
          <Tile label="In flight" value={String(status.queue.in_flight)} />
          <Tile label="Dead letter" value={String(status.queue.dead)} tone={status.queue.dead > 0 ? 'bad' : undefined} />
          {scaler && (
            <Tile
              label="Workers"
              value={`${scaler.running} / ${scaler.desired}`}
              hint={`running / desired${scaler.stopping ? ` · ${scaler.stopping} stopping` : ''}${
                scaler.idle_cores === undefined ? '' : ` · ${scaler.idle_cores.toFixed(1)} cores idle`
              }`}
            />
          )}
          <Tile label="Throughput" value={throughput === undefined ? '–' : perSecond(throughput)} hint="images done" />
          <Tile label="p95 latency" value={p95 === undefined ? '–' : ms(p95)} hint={chosenRoute === ALL_ROUTES ? 'all routes' : chosenRoute} />
          <Tile label="Images" value={String(status.images.done)} hint={`done · ${status.images.queued + status.images.processing} pending · ${status.images.failed} failed`} />
          {scaler && (
            <Tile
              label="Worker crashes"
              value={String(scaler.crashes)}
              hint={scaler.failed_starts ? `${scaler.failed_starts} in a row failed to start` : undefined}
              tone={scaler.failed_starts ? 'bad' : scaler.crashes > 0 ? 'warn' : undefined}
            />
          )}
          {status.durability && (
            <Tile
              label="Uploads survive"
              value={status.durability === 'power' ? 'Power loss' : 'Process crash'}
              hint={`--durability ${status.durability}`}
            />
          )}
        </dl>
      )}

      <OpsCharts metrics={metrics} statuses={statuses} route={chosenRoute} now={now} />

      {status && (
        <section className="card" aria-labelledby="decisions-title">
          <h2 id="decisions-title" className="h3">
            Scaler decisions
          </h2>
          {!scaler && (
            <p className="muted" data-testid="scaler-elsewhere">
              This web server scales no workers: a separate <code>argus scaler</code> (or KEDA) does. Its decisions
              are in its log and on its own <code>/metrics</code> (<code>--metrics-port</code>, 8081 by default).
            </p>
          )}
          {scaler && scaler.worker_pids.length > 0 && (
            <p className="muted small">Worker process IDs: {scaler.worker_pids.join(', ')}</p>
          )}
          {!scaler ? null : decisions.length === 0 ? (
            <p className="muted">No scaling decisions yet.</p>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="decisions">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Action</th>
                    <th scope="col">Workers</th>
                    <th scope="col">Depth</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {decisions.map((d, i) => (
                    <tr key={`${d.at_ms}-${i}`}>
                      <td>{formatTime(d.at_ms)}</td>
                      <td>
                        <span className={`badge badge-${decisionBadge(d.action)}`}>
                          {d.action.replace(/_/g, ' ')}
                        </span>
                      </td>
                      <td>
                        {d.from} → {d.to}
                      </td>
                      <td>{d.depth}</td>
                      <td>{d.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </div>
  );
}
