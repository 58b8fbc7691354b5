/**
 * A time-series line chart over uPlot, sized to its container and coloured
 * from the page's CSS variables so it follows light and dark mode.
 *
 * @module
 */

import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

/** One line of a chart. */
export interface Line {
  label: string;
  /** A CSS variable holding its colour, e.g. "--chart-1". */
  color: string;
  values: (number | null)[];
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name)
    .trim() || "#888";
}

/** A line chart of `lines` over `times` (ms since the epoch). */
export function LineChart(
  { times, lines, label, height = 180 }: {
    times: number[];
    lines: Line[];
    label: string;
    height?: number;
  },
) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = lines.map((l) => l.label).join("\u0000");
  const data = [
    times.map((t) => t / 1000),
    ...lines.map((l) => l.values),
  ] as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = {
      stroke: cssVar("--muted"),
      grid: { stroke: cssVar("--grid"), width: 1 },
      ticks: { stroke: cssVar("--grid"), width: 1 },
    };
    plot.current = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        },
        axes: [axis, { ...axis, size: 56 }],
        series: [
          {},
          ...lines.map((l) => ({
            label: l.label,
            stroke: cssVar(l.color),
            width: 2,
            points: { show: false },
          })),
        ],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(200, el.clientWidth), height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return html`
    <figure class="chart">
      <div ref=${box} role="img" aria-label=${label}></div>
      <figcaption>
          ${lines.map((l) =>
            html`<span class="key"><i style=${`background: var(${l.color})`}></i>${l.label}</span>`
          )}
        </figcaption>
    </figure>
  `;
}
