// Rollups as charts: a node's (VEN, DER asset, Winter River node) or the portfolio's daily (30 days) and monthly
// energy, power, shed and hours online, each chart with the same numbers in a table beside; and a node's own page.
import type { JSX } from 'preact';
import { useMemo } from 'preact/hooks';
import type { Benchmarks, Rollups, RollupRow } from '../api/types.js';
import { Chart, type SeriesSpec } from '../components/chart.js';
import { Empty, Loaded } from '../components/ui.js';
import { useApp, useAsync, useLive, type Async } from '../context.js';
import { DASH, num } from '../format.js';
import { hrefOf, useQueryParam } from '../router.js';
import { QualityPanel } from './quality.js';

const PERIODS = ['daily', 'monthly'] as const;
type Period = (typeof PERIODS)[number];

const energySeries: SeriesSpec[] = [
  { label: 'Imported', color: '#1f5fbf', unit: 'kWh' },
  { label: 'Exported', color: '#8a5a00', unit: 'kWh' },
  { label: 'Shed', color: '#1b7f3b', unit: 'kWh', dash: [6, 4] },
];
const powerSeries: SeriesSpec[] = [
  { label: 'Peak', color: '#a3161c', unit: 'kW' },
  { label: 'Mean', color: '#1f5fbf', unit: 'kW' },
];
const onlineSeries: SeriesSpec[] = [{ label: 'Online', color: '#505a66', unit: 'h' }];

function usePeriod(): [Period, JSX.Element] {
  const [value, set] = useQueryParam('period', 'daily');
  const period: Period = value === 'monthly' ? 'monthly' : 'daily';
  const picker = (
    <div class="toolbar" role="group" aria-label="Rollup period">
      {PERIODS.map((p) => (
        <button type="button" aria-pressed={period === p} onClick={() => set(p)}>
          {p === 'daily' ? 'Daily (30 days)' : 'Monthly (12 months)'}
        </button>
      ))}
    </div>
  );
  return [period, picker];
}

/** A node's rollups, on its VEN or node page. */
export function NodeRollups({ nodeId }: { nodeId: string }) {
  const { api } = useApp();
  const [period, picker] = usePeriod();
  const rollups = useAsync(
    () => api.get<Rollups>(`/api/analytics/${encodeURIComponent(nodeId)}/${period}`),
    [nodeId, period],
  );
  return (
    <section aria-labelledby="rollups-title">
      <h2 id="rollups-title">Energy and power ({period})</h2>
      {picker}
      <RollupCharts
        state={rollups}
        name={nodeId}
        notFound={`The platform has no rollups for ${nodeId}: it is not a known node`}
      />
      <Peers nodeId={nodeId} />
    </section>
  );
}

const METRICS = [
  ['load_factor', 'Load factor', 'mean kW / peak 15-minute kW', (v: number) => num(v, '', 2)],
  ['availability', 'Availability', 'hours online / hours', (v: number) => num(v * 100, '%', 1)],
  ['shed_delivered_ratio', 'Shed delivered', 'of the shed committed in DR events', (v: number) => num(v * 100, '%', 1)],
] as const;

/** How the node compares with its peers over the last 30 whole UTC days. */
function Peers({ nodeId }: { nodeId: string }) {
  const { api } = useApp();
  const bench = useAsync(
    () => api.get<Benchmarks>(`/api/analytics/${encodeURIComponent(nodeId)}/benchmarks`, { days: 30 }),
    [nodeId],
  );
  return (
    <Loaded state={bench} notFound={`No benchmarks for ${nodeId}`}>
      {(b) => (
        <table class="grid compact" aria-label="Compared with peers">
          <caption>
            Compared with its {b.peers} peers ({b.type}), the last 30 days
          </caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Value</th>
              <th scope="col">Percentile among peers</th>
            </tr>
          </thead>
          <tbody>
            {METRICS.map(([key, label, hint, show]) => {
              const m = b.metrics[key];
              return (
                <tr key={key}>
                  <th scope="row" title={hint}>
                    {label}
                  </th>
                  <td class="num">{m.value === null ? DASH : show(m.value).trim()}</td>
                  <td class="num">{m.percentile === null ? DASH : m.percentile}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Loaded>
  );
}

/** `/analytics`: the whole portfolio's rollups. */
export function PortfolioAnalytics() {
  const { api } = useApp();
  const [period, picker] = usePeriod();
  const rollups = useAsync(() => api.get<Rollups>('/api/analytics/portfolio', { period }), [period]);
  return (
    <>
      <h1>Portfolio analytics</h1>
      <p class="muted">
        Every VEN and DER asset together; a node&apos;s own figures are on its page (VEN, asset or Winter River node).
      </p>
      {picker}
      <RollupCharts state={rollups} name="the portfolio" notFound="No portfolio rollups" />
    </>
  );
}

/** `/nodes/{nodeId}`: any node that is not a VEN (a DER asset, a Winter River node): its rollups, data quality and ledger. */
export function NodeDetail({ nodeId }: { nodeId: string }) {
  const live = useLive();
  return (
    <>
      <h1>Node {nodeId}</h1>
      <p>
        {live.vens.has(nodeId) && (
          <>
            <a href={hrefOf.ven(nodeId)}>VEN page of {nodeId}</a> ·{' '}
          </>
        )}
        <a href={hrefOf.ledger(nodeId)}>Ledger</a> · <a href="/analytics">Portfolio analytics</a>
      </p>
      <NodeRollups nodeId={nodeId} />
      <QualityPanel nodeId={nodeId} />
    </>
  );
}

function RollupCharts({ state, name, notFound }: { state: Async<Rollups>; name: string; notFound: string }) {
  const charts = useMemo(() => {
    const rows = [...(state.data?.items ?? [])].reverse(); // oldest first for the charts
    const x = new Float64Array(rows.map((r) => Date.parse(r.start) / 1000));
    const col = (k: keyof RollupRow) => rows.map((r) => (typeof r[k] === 'number' ? (r[k] as number) : null));
    const range: [number, number] = rows.length ? [x[0]!, Date.parse(rows[rows.length - 1]!.end) / 1000] : [0, 0];
    return {
      rows,
      range,
      energy: [x, col('import_kwh'), col('export_kwh'), col('shed_kwh')] as const,
      power: [x, col('peak_kw'), col('mean_kw')] as const,
      online: [x, col('online_hours')] as const,
    };
  }, [state.data]);
  return (
    <Loaded state={state} notFound={notFound}>
      {(r) =>
        r.items.length === 0 ? (
          <Empty>
            No {r.period} rollups for {name} yet: they are computed as its telemetry arrives.
          </Empty>
        ) : (
          <>
            <div class="columns">
              <Chart
                title={`Energy imported, exported and shed per ${r.period === 'daily' ? 'day' : 'month'}, ${name}`}
                series={energySeries}
                data={charts.energy}
                height={220}
                xRange={charts.range}
              />
              <Chart
                title={`Peak and mean power per ${r.period === 'daily' ? 'day' : 'month'}, ${name}`}
                series={powerSeries}
                data={charts.power}
                height={220}
                xRange={charts.range}
              />
            </div>
            <Chart
              title={`Hours online per ${r.period === 'daily' ? 'day' : 'month'}, ${name}`}
              series={onlineSeries}
              data={charts.online}
              height={150}
              xRange={charts.range}
            />
            <RollupTable rows={r.items} period={r.period} />
          </>
        )
      }
    </Loaded>
  );
}

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const monthFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', timeZone: 'UTC' });

function RollupTable({ rows, period }: { rows: readonly RollupRow[]; period: Period }) {
  const label = (r: RollupRow) => (period === 'daily' ? dayFormat : monthFormat).format(Date.parse(r.start));
  const kwh = (v: number | null) => num(v, 'kWh', 3);
  return (
    <details>
      <summary>
        The figures ({rows.length} {period === 'daily' ? 'days' : 'months'}, UTC, newest first)
      </summary>
      <div class="scroller">
        <table class="grid" aria-label={`Rollups ${period}`}>
          <thead>
            <tr>
              <th scope="col">{period === 'daily' ? 'Day' : 'Month'}</th>
              <th scope="col">Imported</th>
              <th scope="col">Exported</th>
              <th scope="col">Shed</th>
              <th scope="col">Peak</th>
              <th scope="col">Mean</th>
              <th scope="col">SOC min / mean</th>
              <th scope="col">Online</th>
              <th scope="col">Samples</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.start}>
                <th scope="row">{label(r)}</th>
                <td class="num">{kwh(r.import_kwh)}</td>
                <td class="num">{kwh(r.export_kwh)}</td>
                <td class="num">{kwh(r.shed_kwh)}</td>
                <td class="num">{num(r.peak_kw, 'kW', 3)}</td>
                <td class="num">{num(r.mean_kw, 'kW', 3)}</td>
                <td class="num">
                  {r.min_soc_pct === null && r.mean_soc_pct === null
                    ? DASH
                    : `${num(r.min_soc_pct, '%', 0)} / ${num(r.mean_soc_pct, '%', 0)}`}
                </td>
                <td class="num">{num(r.online_hours, 'h', 1)}</td>
                <td class="num">{r.samples}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
