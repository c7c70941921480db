// A uPlot time-series chart: x in epoch seconds, one array per series (null is a gap), sized to its container.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  readonly unit: string;
  readonly dash?: number[];
}

export interface ChartProps {
  /** Accessible summary of what the chart shows. */
  readonly title: string;
  readonly series: readonly SeriesSpec[];
  /** [x (epoch seconds), ...one array per series]. */
  readonly data: readonly [Float64Array, ...ArrayLike<number | null>[]];
  readonly height?: number;
  /** The x window [start, end] in epoch seconds; without it the data's own extent (one point would span years). */
  readonly xRange?: readonly [number, number];
}

export function Chart({ title, series, data, height = 260, xRange }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>();

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { label: series[0]?.unit ?? '', size: 60 }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(s.dash && { dash: s.dash }),
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${v.toFixed(2)} ${s.unit}`),
        })),
      ],
    };
    plot.current = new uPlot(opts, data as unknown as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [series, height]);

  useEffect(() => {
    const p = plot.current;
    if (!p) return;
    p.setData(data as unknown as uPlot.AlignedData, !xRange);
    if (xRange) p.setScale('x', { min: xRange[0], max: xRange[1] });
  }, [data, xRange?.[0], xRange?.[1]]);

  return <figure class="chart" ref={box} aria-label={title} data-points={data[0].length} />;
}
