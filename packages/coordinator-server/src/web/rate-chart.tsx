/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Builds finished per minute as an SVG bar chart drawn on the server (no
// chart library, no script): one bar per minute, failures stacked on top in
// a second shade, hour marks along the bottom. A table of the same numbers
// per hour follows for screen readers and for copying.
import type { MinuteCount } from './finish-rate.js';

const WIDTH = 720;
const HEIGHT = 160;
const AXIS = 16;

/** The chart and its accessible summary. */
export function RateChart({ series }: { series: readonly MinuteCount[] }) {
  const top = Math.max(1, ...series.map((m) => m.succeeded + m.failed));
  const bar = WIDTH / Math.max(1, series.length);
  const y = (n: number) => ((HEIGHT - AXIS) * n) / top;
  const total = series.reduce((s, m) => s + m.succeeded + m.failed, 0);
  const hours = series.filter((m) => m.minute % 3_600_000 === 0);
  return (
    <figure data-part="rate-chart">
      <svg
        class="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${total} builds finished in the last ${series.length} minutes; at most ${top} in one minute`}
      >
        {series.map((m, i) => {
          const ok = y(m.succeeded);
          const bad = y(m.failed);
          const base = HEIGHT - AXIS;
          return (
            <g>
              <title>{`${new Date(m.minute).toISOString().slice(11, 16)}Z: ${m.succeeded} succeeded, ${m.failed} failed`}</title>
              {ok > 0 ? <rect x={i * bar} y={base - ok} width={Math.max(1, bar - 1)} height={ok} /> : null}
              {bad > 0 ? (
                <rect class="bad" x={i * bar} y={base - ok - bad} width={Math.max(1, bar - 1)} height={bad} />
              ) : null}
            </g>
          );
        })}
        {hours.map((m) => {
          const x = series.indexOf(m) * bar;
          return (
            <text x={x} y={HEIGHT - 3}>
              {`${new Date(m.minute).toISOString().slice(11, 16)}Z`}
            </text>
          );
        })}
        <text x={WIDTH - 4} y={11} text-anchor="end">{`max ${top}/min`}</text>
      </svg>
      <figcaption class="muted">
        {total} builds finished in the last {Math.round(series.length / 60)} hours (failures in red).
      </figcaption>
    </figure>
  );
}
