// A VEN's or a site's forecast for the next 24 h in quarter-hours, the method in words, and how it did on held-out
// days against the naive forecast (the last value carried forward).
import { useMemo } from 'preact/hooks';
import type { Forecast } from '../api/types.js';
import { Chart, type SeriesSpec } from '../components/chart.js';
import { Badge, Empty, Loaded } from '../components/ui.js';
import { useApp, useAsync } from '../context.js';
import { num, time } from '../format.js';

const series: SeriesSpec[] = [{ label: 'Forecast', color: '#6b3fa0', unit: 'kW' }];
const QUARTER = 900;

/** Per kind: the API collection, the noun, what the kW are (a site's are its assets' output, signed as they report it). */
const KINDS = {
  ven: ['vens', 'VEN', 'Load'],
  site: [
    'sites',
    'site',
    'Output (+ discharge or generation, − charging: the sign its assets report; the rollups count import +)',
  ],
} as const;

/** `GET /api/vens/{id}/forecast` or `GET /api/sites/{id}/forecast` (a site: the sum of its assets). */
export function LoadForecast({ kind, id }: { kind: keyof typeof KINDS; id: string }) {
  const { api } = useApp();
  const [collection, noun, what] = KINDS[kind];
  const forecast = useAsync(
    () => api.get<Forecast>(`/api/${collection}/${encodeURIComponent(id)}/forecast`),
    [collection, id],
  );
  const data = useMemo(() => {
    const points = forecast.data?.points ?? [];
    return [new Float64Array(points.map((p) => Date.parse(p.start) / 1000)), points.map((p) => p.kw)] as const;
  }, [forecast.data]);
  return (
    <section aria-labelledby="forecast-title">
      <h2 id="forecast-title">Forecast (next 24 h)</h2>
      <Loaded state={forecast} notFound={`No forecast for ${id}: it is not a known ${noun}`}>
        {(f) =>
          f.points.length === 0 ? (
            <Empty>No forecast yet: {f.note ?? `${id} needs more history`}.</Empty>
          ) : (
            <>
              <p data-testid="forecast-error">
                {f.error ? (
                  <>
                    {f.error.mae_kw < f.error.naive_mae_kw ? (
                      <Badge tone="ok">beats naive</Badge>
                    ) : (
                      <Badge tone="warn">no better than naive</Badge>
                    )}{' '}
                    mean absolute error {num(f.error.mae_kw, 'kW', 3)} against {num(f.error.naive_mae_kw, 'kW', 3)} for
                    the naive forecast (the last value carried forward), on {f.error.held_out_days} held-out{' '}
                    {f.error.held_out_days === 1 ? 'day' : 'days'}
                  </>
                ) : (
                  'Not yet checked on held-out history: too little history.'
                )}
              </p>
              <Chart
                title={`Forecast power of ${id}, ${f.resolution} steps`}
                series={series}
                data={data}
                height={220}
                xRange={[data[0][0]!, data[0][data[0].length - 1]! + QUARTER]}
              />
              <p class="muted">
                {what} in kW. Method: {f.method} Made {time(f.generated_at)}.
              </p>
            </>
          )
        }
      </Loaded>
    </section>
  );
}
