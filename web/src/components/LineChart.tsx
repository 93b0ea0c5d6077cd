// A small time-series line chart in plain SVG (no chart library).
import { type RefObject, useEffect, useId, useRef, useState } from 'react';
import type { Point } from '../lib/opsHistory';

export interface Series {
  name: string;
  points: Point[];
  /** A CSS colour, usually a custom property such as var(--series-1). */
  color: string;
}

export interface LineChartProps {
  title: string;
  series: Series[];
  format(value: number): string;
  windowMs: number;
  now: number;
  /** The y axis reaches at least this value. */
  minMax?: number;
  /** Whole-number ticks (counts). */
  integer?: boolean;
  height?: number;
}

const DEFAULT_WIDTH = 600;

/** The rendered width of an element, so text in the SVG keeps its size on every screen. */
function useWidth<T extends Element>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  useEffect(() => {
    const node = ref.current;
    if (!node || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
const PAD = { top: 12, right: 12, bottom: 24, left: 56 };

/** 1, 2, 2.5 or 5 times a power of ten, at least value. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value - 1e-12) return step * power;
  return 10 * power;
}

/** The top of a y axis with four even, round steps (whole numbers for counts). */
export function axisMax(value: number, integer: boolean): number {
  let step = niceCeil(value / 4);
  if (integer) step = Math.max(1, Math.ceil(step));
  return step * 4;
}

export function LineChart({ title, series, format, windowMs, now, minMax = 0, integer = false, height = 180 }: LineChartProps) {
  const titleId = useId();
  const [box, WIDTH] = useWidth<HTMLDivElement>();
  const start = now - windowMs;
  const values = series.flatMap((s) => s.points.filter((p) => p.t >= start).map((p) => p.v));
  const yMax = axisMax(Math.max(minMax, ...values.filter(Number.isFinite), 0), integer);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - start) / windowMs) * plotW;
  const y = (v: number) => PAD.top + plotH - (Math.min(v, yMax) / yMax) * plotH;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const minutes = Math.round(windowMs / 60_000);
  const every = WIDTH < 420 ? 2 : 1;
  const xTicks = Array.from({ length: minutes + 1 }, (_, i) => now - (minutes - i) * 60_000).filter(
    (_, i) => (minutes - i) % every === 0,
  );
  const latest = series.map((s) => {
    const last = s.points[s.points.length - 1];
    return { name: s.name, color: s.color, value: last && last.t >= start ? last.v : undefined };
  });
  const summary = latest
    .map((l) => `${l.name} ${l.value === undefined ? 'no data' : format(l.value)}`)
    .join(', ');
  const empty = values.length === 0;

  return (
    <figure className="chart card" data-testid={`chart-${title}`}>
      <figcaption id={titleId} className="chart-title">
        {title}
      </figcaption>
      <div ref={box} className="chart-box">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        width={WIDTH}
        height={height}
        role="img"
        aria-labelledby={titleId}
        aria-describedby={`${titleId}-d`}
        className="chart-svg"
      >
        <desc id={`${titleId}-d`}>Latest: {summary}</desc>
        {yTicks.map((v) => (
          <g key={v}>
            <line className="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(v)} y2={y(v)} />
            <text className="axis" x={PAD.left - 6} y={y(v) + 4} textAnchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {xTicks.map((t, i) => (
          <text key={t} className="axis" x={x(t)} y={height - 6} textAnchor={t === start ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle'}>
            {i === xTicks.length - 1 ? 'now' : `−${Math.round((now - t) / 60_000)}m`}
          </text>
        ))}
        {series.map((s) => {
          const visible = s.points.filter((p) => p.t >= start && Number.isFinite(p.v));
          if (visible.length === 0) return null;
          const d = visible.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
          return (
            <g key={s.name} data-series={s.name}>
              <path d={d} fill="none" stroke={s.color} strokeWidth={2} vectorEffect="non-scaling-stroke" strokeLinejoin="round" />
              {visible.length === 1 && <circle cx={x(visible[0].t)} cy={y(visible[0].v)} r={3} fill={s.color} />}
            </g>
          );
        })}
        {empty && (
          <text className="axis" x={PAD.left + plotW / 2} y={PAD.top + plotH / 2} textAnchor="middle">
            Collecting samples…
          </text>
        )}
      </svg>
      </div>
      <ul className="legend">
        {latest.map((l) => (
          <li key={l.name}>
            <span className="swatch" style={{ background: l.color }} aria-hidden="true" />
            {l.name} <strong data-testid={`latest-${l.name}`}>{l.value === undefined ? '–' : format(l.value)}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}
