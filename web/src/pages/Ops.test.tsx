import { render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { OpsStatus } from '../api/types';
import { parseMetrics } from '../lib/metrics';
import { metricsPoint, statusPoint } from '../lib/opsHistory';
import { ADMIN, mockFetch, USER } from '../test/fakes';
import { renderApp } from '../test/render';
import { OpsCharts } from './Ops';

const status: OpsStatus = {
  queue: { ready: 12, in_flight: 4, dead: 1 },
  images: { queued: 12, processing: 4, done: 300, failed: 2 },
  scaler: {
    desired: 3,
    running: 2,
    stopping: 0,
    crashes: 5,
    failed_starts: 3,
    idle_cores: 0.25,
    worker_pids: [101, 102],
    decisions: [
      { at_ms: 1_700_000_000_000, action: 'scale_out', from: 1, to: 2, depth: 20, reason: 'depth 20 > 1 worker × 8 jobs' },
      { at_ms: 1_700_000_005_000, action: 'scale_out', from: 2, to: 3, depth: 30, reason: 'depth 30 > 2 workers × 8 jobs' },
      { at_ms: 1_699_999_990_000, action: 'scale_out', from: 0, to: 1, depth: 0, reason: 'below the minimum of 1 worker' },
      {
        at_ms: 1_700_000_010_000,
        action: 'scale_out_held',
        from: 2,
        to: 2,
        depth: 30,
        reason: '30 jobs need 3 workers, but only 0.2 cores were idle (a new worker needs 1.0)',
      },
      { at_ms: 1_700_000_020_000, action: 'restart', from: 1, to: 2, depth: 30, reason: 'replacing 1 crashed worker' },
    ],
  },
  durability: 'power',
};

function metricsText(done: number, fast: number, slow: number) {
  return `# TYPE argus_images_total counter
argus_images_total{status="done"} ${done}
argus_images_total{status="failed"} 0
argus_http_request_duration_seconds_bucket{route="/",le="0.005"} ${fast}
argus_http_request_duration_seconds_bucket{route="/",le="0.025"} ${fast + slow}
argus_http_request_duration_seconds_bucket{route="/",le="+Inf"} ${fast + slow}
`;
}

// The Ops page for the administrator, its status lacking `member`; resolves to its tiles.
async function showOpsWithout(member: 'durability' | 'scaler') {
  const partial: OpsStatus = { ...status };
  delete partial[member];
  mockFetch({
    'GET /api/v1/ops/status': { body: partial },
    'GET /metrics': { body: metricsText(100, 10, 0), headers: { 'Content-Type': 'text/plain' } },
  });
  renderApp('/ops', { user: ADMIN, services: { opsIntervalMs: 30 } });
  return screen.findByTestId('ops-tiles');
}

describe('ops charts', () => {
  it('charts throughput and p50/p95/p99 latency from sample metrics', () => {
    const now = 1_700_000_060_000;
    const metrics = [
      metricsPoint(parseMetrics(metricsText(100, 0, 0)), now - 6000),
      metricsPoint(parseMetrics(metricsText(130, 80, 20)), now - 3000),
      metricsPoint(parseMetrics(metricsText(190, 160, 40)), now),
    ];
    const statuses = [statusPoint(status, now - 3000), statusPoint({ ...status, queue: { ready: 5, in_flight: 2, dead: 1 } }, now)];
    render(<OpsCharts metrics={metrics} statuses={statuses} route="/" now={now} />);

    const throughput = screen.getByTestId('chart-Throughput');
    expect(within(throughput).getByTestId('latest-done').textContent).toBe('20/s');
    expect(throughput.querySelector('[data-series="done"] path')!.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);

    const latency = screen.getByTestId('chart-Latency');
    // Window since the first sample: 160 fast (≤5 ms) and 40 slow (5–25 ms).
    expect(within(latency).getByTestId('latest-p50').textContent).toBe('3.1 ms');
    expect(within(latency).getByTestId('latest-p95').textContent).toBe('20 ms');
    expect(within(latency).getByTestId('latest-p99').textContent).toBe('24 ms');

    const queue = screen.getByTestId('chart-Queue');
    expect(within(queue).getByTestId('latest-ready').textContent).toBe('5');
    expect(within(queue).getByRole('img').textContent).toContain('ready 5');
    expect(within(screen.getByTestId('chart-Workers')).getByTestId('latest-desired').textContent).toBe('3');
  });

  it('shows a placeholder before there are samples', () => {
    render(<OpsCharts metrics={[]} statuses={[]} route="/" now={Date.now()} />);
    expect(screen.getAllByText('Collecting samples…')).toHaveLength(4);
  });
});

describe('ops page', () => {
  it('polls the status and metrics and shows tiles and scaler decisions', async () => {
    let scrape = 0;
    mockFetch({
      'GET /api/v1/ops/status': { body: status },
      'GET /metrics': () => {
        scrape++;
        return { body: metricsText(100 + scrape * 10, scrape * 10, 0), headers: { 'Content-Type': 'text/plain' } };
      },
    });
    renderApp('/ops', { user: ADMIN, services: { opsIntervalMs: 30 } });
    const tiles = await screen.findByTestId('ops-tiles');
    expect(within(tiles).getByText('Queue depth').nextElementSibling!.textContent).toContain('12');
    expect(within(tiles).getByText('Dead letter').nextElementSibling!.textContent).toContain('1');
    expect(within(tiles).getByText('Workers').nextElementSibling!.textContent).toContain('2 / 3');
    expect(within(tiles).getByText('Workers').nextElementSibling!.textContent).toContain('0.3 cores idle');
    const crashes = within(tiles).getByText('Worker crashes');
    expect(crashes.nextElementSibling!.textContent).toContain('3 in a row failed to start');
    expect(crashes.parentElement!.className).toContain('tile-bad');
    const durability = within(tiles).getByText('Uploads survive').nextElementSibling!.textContent;
    expect(durability).toContain('Power loss');
    expect(durability).toContain('--durability power');
    await waitFor(() => expect(scrape).toBeGreaterThanOrEqual(3));
    await waitFor(() =>
      expect(within(tiles).getByText('Throughput').nextElementSibling!.textContent).not.toContain('–'),
    );
    const rows = within(screen.getByTestId('decisions')).getAllByRole('row');
    expect(rows).toHaveLength(6);
    // Newest first.
    expect(rows[1].textContent).toContain('restart');
    expect(rows[1].textContent).toContain('replacing 1 crashed worker');
    expect(rows[1].querySelector('.badge')!.className).toContain('badge-failed');
    expect(rows[2].textContent).toContain('scale out held');
    expect(rows[2].textContent).toContain('0.2 cores were idle');
    expect(rows[3].textContent).toContain('2 → 3');
    expect(rows[3].textContent).toContain('scale out');
    expect(rows[3].querySelector('.badge')!.className).toContain('badge-processing');
    expect(rows[5].textContent).toContain('below the minimum of 1 worker');
    expect(screen.getByText('Worker process IDs: 101, 102')).toBeTruthy();
  });

  it('leaves out what uploads survive when no store follows --durability (the cluster profile)', async () => {
    const tiles = await showOpsWithout('durability');
    expect(within(tiles).getByText('Queue depth')).toBeTruthy();
    expect(within(tiles).queryByText('Uploads survive')).toBeNull();
  });

  it('shows the rest of the status under argus web, which runs no scaler', async () => {
    const tiles = await showOpsWithout('scaler');
    expect(within(tiles).getByText('Queue depth').nextElementSibling!.textContent).toContain('12');
    expect(within(tiles).queryByText('Workers')).toBeNull();
    expect(within(tiles).queryByText('Worker crashes')).toBeNull();
    expect(screen.getByTestId('scaler-elsewhere').textContent).toContain('argus scaler');
    expect(screen.queryByTestId('decisions')).toBeNull();
    await waitFor(() => expect(screen.getByTestId('chart-Queue')).toBeTruthy());
    await waitFor(() => expect(within(screen.getByTestId('chart-Queue')).getByTestId('latest-ready')).toBeTruthy());
    expect(screen.queryByTestId('chart-Workers')).toBeNull();
  });

  it('tells non-admins the page is for administrators', async () => {
    mockFetch({
      'GET /api/v1/ops/status': { status: 403, body: { error: { code: 'forbidden', message: 'admins only' } } },
      'GET /metrics': { body: '' },
    });
    renderApp('/ops', { user: USER });
    expect((await screen.findByTestId('ops-forbidden')).textContent).toContain('Administrators only');
  });
});
