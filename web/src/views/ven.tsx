// One VEN: the live shadow, its telemetry and circuit history, its event history, the event and restore commands,
// and (loaded on first use) its forecast, rollups and data quality.
import { useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { useSend } from '../components/use-send.js';
import type { CircuitPoint, SentCommand, TelemetryPoint, VenEvent } from '../api/types.js';
import { Chart, type SeriesSpec } from '../components/chart.js';
import { CommandTracker } from '../components/command-tracker.js';
import { Badge, Confirm, Empty, ErrorNote, Field, RequiresRole } from '../components/ui.js';
import { useApp, useAsync, useLive, useLiveMessages } from '../context.js';
import { ago, DASH, kw, num, time, timeZone } from '../format.js';
import { hrefOf, useQueryParam } from '../router.js';
import { venState } from '../live/ven-state.js';
import { lazy } from '../components/lazy.js';

const LoadForecast = lazy(() => import('./forecast.js').then((m) => m.LoadForecast));
const NodeRollups = lazy(() => import('./analytics.js').then((m) => m.NodeRollups));
const QualityPanel = lazy(() => import('./quality.js').then((m) => m.QualityPanel));

const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
const MAX_POINTS = 5000;

interface ShadowCircuit {
  id: string;
  name?: string;
  enabled: boolean;
  critical?: boolean;
  current_kw: number;
}
interface Reported {
  power_kw?: number;
  shed_kw?: number;
  circuits?: ShadowCircuit[];
  active_event?: { event_id: string; shed_kw: number; end_ts: number } | null;
  timestamp?: number;
}

export function VenDetail({ venId }: { venId: string }) {
  const { api } = useApp();
  const live = useLive();
  const ven = useAsync(() => api.get(`/api/vens/${encodeURIComponent(venId)}`), [venId]);
  const row = live.vens.get(venId);
  const shadow = useShadow(venId);
  const win = useWindow();
  if (ven.error && !row) {
    return (
      <>
        <h1>VEN {venId}</h1>
        <ErrorNote error={ven.error} action={<a href="/">Back to the overview</a>} />
      </>
    );
  }
  const state = row ? venState(row, Date.now()) : 'offline';
  return (
    <>
      <h1>
        VEN {venId} <Badge tone={state === 'online' ? 'ok' : state === 'stale' ? 'warn' : 'muted'}>{state}</Badge>
      </h1>
      <p class="muted">
        Last reading {ago(row?.lastSeen)} · used {kw(row?.usedPowerKw)} · shed {kw(row?.shedPowerKw)} ·{' '}
        <a href={hrefOf.ledger(venId)}>Ledger</a>
      </p>
      <section aria-labelledby="commands-title">
        <h2 id="commands-title">Commands</h2>
        <RequiresRole role="operator" what="sending an event or a restore">
          <Commands venId={venId} />
        </RequiresRole>
      </section>
      <Shadow venId={venId} reported={shadow.reported} error={shadow.error} loading={shadow.loading} />
      <Telemetry venId={venId} win={win} />
      <CircuitHistory venId={venId} circuits={shadow.reported?.circuits ?? []} range={win.range} />
      <EventHistory venId={venId} />
      <LoadForecast kind="ven" id={venId} />
      <NodeRollups nodeId={venId} />
      <QualityPanel nodeId={venId} />
    </>
  );
}

function Commands({ venId }: { venId: string }) {
  const { busy, send: post } = useSend();
  const [shed, setShed] = useState('5');
  const [duration, setDuration] = useState('900');
  const [confirm, setConfirm] = useState<'event' | 'restore'>();
  const [sent, setSent] = useState<{ correlationId: string; label: string }[]>([]);
  const [error, setError] = useState<{ field?: string | undefined; message: string }>();

  const send = async (kind: 'event' | 'restore') => {
    setConfirm(undefined);
    setError(undefined);
    try {
      const path = `/api/vens/${encodeURIComponent(venId)}/${kind === 'event' ? 'send-event' : 'restore'}`;
      const body = kind === 'event' ? { shed_kw: Number(shed), duration_sec: Number(duration) } : {};
      const res = await post<SentCommand>(path, body);
      if (!res) return;
      const label = kind === 'event' ? `Event ${shed} kW for ${duration} s` : 'Restore';
      setSent((s) => [{ correlationId: res.correlationId, label }, ...s].slice(0, 5));
    } catch (err) {
      setError({ field: err instanceof ApiError ? err.field : undefined, message: (err as Error).message });
    }
  };

  return (
    <>
      <form
        class="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          setConfirm('event');
        }}
      >
        <Field label="Shed (kW)" error={error?.field === 'shed_kw' ? error.message : undefined}>
          <input
            type="number"
            name="shed_kw"
            min="0.1"
            step="0.1"
            required
            value={shed}
            onInput={(e) => setShed(e.currentTarget.value)}
          />
        </Field>
        <Field label="Duration (s)" error={error?.field === 'duration_sec' ? error.message : undefined}>
          <input
            type="number"
            name="duration_sec"
            min="1"
            step="1"
            required
            value={duration}
            onInput={(e) => setDuration(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Sending…' : 'Send event…'}
        </button>
        <button type="button" onClick={() => setConfirm('restore')} disabled={busy}>
          Restore…
        </button>
      </form>
      {error && !error.field && <ErrorNote error={error.message} />}
      {confirm && (
        <Confirm
          title={confirm === 'event' ? 'Send a demand-response event?' : 'Restore every circuit?'}
          confirm={confirm === 'event' ? 'Send event' : 'Restore'}
          onConfirm={() => void send(confirm)}
          onCancel={() => setConfirm(undefined)}
        >
          {confirm === 'event' ? (
            <p>
              {venId} will shed {num(Number(shed), 'kW', 2)} for {num(Number(duration), 's', 0)}.
            </p>
          ) : (
            <p>{venId} will end any active event and re-enable its circuits.</p>
          )}
        </Confirm>
      )}
      <ul class="plain">
        {sent.map((s) => (
          <li key={s.correlationId}>
            <CommandTracker correlationId={s.correlationId} label={s.label} />
          </li>
        ))}
      </ul>
    </>
  );
}

/** The shadow as read once through the API, then as the live feed's `update/documents` report it. */
function useShadow(venId: string) {
  const { api } = useApp();
  const live = useLive();
  const fetched = useAsync(
    () =>
      api.get<{ state?: { reported?: Reported } }>(`/api/vens/${encodeURIComponent(venId)}/shadow`).catch((err) => {
        if (err instanceof ApiError && err.status === 404) return { state: undefined };
        throw err;
      }),
    [venId],
  );
  const reported = (live.shadows.get(venId)?.reported ?? fetched.data?.state?.reported) as Reported | undefined;
  return { reported, error: fetched.error, loading: fetched.loading };
}

function Shadow({
  reported,
  error,
  loading,
}: {
  venId: string;
  reported?: Reported | undefined;
  error?: string | undefined;
  loading: boolean;
}) {
  return (
    <section aria-labelledby="shadow-title">
      <h2 id="shadow-title">Live state (shadow)</h2>
      {error && <ErrorNote error={`The shadow could not be read: ${error}`} />}
      {!reported && !loading && <Empty>This VEN has not reported a shadow yet; devices report it every 30 s.</Empty>}
      {reported && (
        <>
          <p>
            Power {kw(reported.power_kw)} · shed {kw(reported.shed_kw)} · reported{' '}
            {time((reported.timestamp ?? 0) * 1000)}
          </p>
          <p>
            {reported.active_event ? (
              <>
                Active event <strong>{reported.active_event.event_id}</strong>: shed {kw(reported.active_event.shed_kw)}{' '}
                until {time(reported.active_event.end_ts * 1000)}
              </>
            ) : (
              'No active event.'
            )}
          </p>
          <table class="grid">
            <caption>Circuits</caption>
            <thead>
              <tr>
                <th scope="col">Circuit</th>
                <th scope="col">Enabled</th>
                <th scope="col">Critical</th>
                <th scope="col">Current</th>
              </tr>
            </thead>
            <tbody>
              {(reported.circuits ?? []).map((c) => (
                <tr key={c.id}>
                  <th scope="row">{c.name ?? c.id}</th>
                  <td>{c.enabled ? <Badge tone="ok">on</Badge> : <Badge tone="warn">off</Badge>}</td>
                  <td>{c.critical ? 'critical' : 'no'}</td>
                  <td class="num">{kw(c.current_kw)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function useWindow() {
  const [win, setWin] = useQueryParam('window', '1h');
  const [from, setFrom] = useQueryParam('from', '');
  const [to, setTo] = useQueryParam('to', '');
  const range = useMemo(() => {
    if (win === 'custom' && from && to) return { start: Date.parse(from), end: Date.parse(to) };
    const span = WINDOWS[win as keyof typeof WINDOWS] ?? WINDOWS['1h'];
    const end = Date.now();
    return { start: end - span, end };
  }, [win, from, to]);
  const picker = (
    <div class="toolbar" role="group" aria-label="Time window">
      {[...Object.keys(WINDOWS), 'custom'].map((w) => (
        <button type="button" aria-pressed={win === w} onClick={() => setWin(w)}>
          {w}
        </button>
      ))}
      {win === 'custom' && (
        <>
          <label class="inline">
            From
            <input type="datetime-local" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label class="inline">
            To
            <input type="datetime-local" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
          </label>
          <span class="muted">{timeZone}</span>
        </>
      )}
    </div>
  );
  return { range, picker, relative: win !== 'custom' };
}

const telemetrySeries: SeriesSpec[] = [
  { label: 'Used', color: '#1f5fbf', unit: 'kW' },
  { label: 'Shed', color: '#1b7f3b', unit: 'kW' },
  { label: 'Baseline', color: '#8a5a00', unit: 'kW', dash: [6, 4] },
];

function Telemetry({ venId, win }: { venId: string; win: ReturnType<typeof useWindow> }) {
  const { api } = useApp();
  const { range, picker, relative } = win;
  const history = useAsync(
    () =>
      api.all<TelemetryPoint>(
        `/api/vens/${encodeURIComponent(venId)}/telemetry`,
        { start: new Date(range.start).toISOString(), end: new Date(range.end).toISOString() },
        MAX_POINTS,
      ),
    [venId, range.start, range.end],
  );
  const [extra, setExtra] = useState<TelemetryPoint[]>([]);
  useLiveMessages(
    (m) => {
      const p = m.payload as { venId?: string; timestamp?: number };
      if (relative && m.topic === 'volttron/metering' && p.venId === venId && typeof p.timestamp === 'number') {
        setExtra((e) => [
          ...e.slice(-2000),
          { ...(m.payload as object), timestamp: new Date(p.timestamp! * 1000).toISOString() } as TelemetryPoint,
        ]);
      }
    },
    [venId, relative],
  );
  const data = useMemo(() => {
    const seen = new Set<string>();
    const points = [...(history.data ?? []), ...extra]
      .filter((p) => !seen.has(p.timestamp) && seen.add(p.timestamp))
      .sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
    const x = new Float64Array(points.length);
    const used: (number | null)[] = [];
    const shed: (number | null)[] = [];
    const base: (number | null)[] = [];
    points.forEach((p, i) => {
      const r = p as Record<string, unknown>;
      x[i] = Date.parse(p.timestamp) / 1000;
      used.push(typeof r.usedPowerKw === 'number' ? r.usedPowerKw : null);
      shed.push(typeof r.shedPowerKw === 'number' ? r.shedPowerKw : 0);
      base.push(typeof r.baselinePowerKw === 'number' ? r.baselinePowerKw : null);
    });
    return [x, used, shed, base] as const;
  }, [history.data, extra]);

  return (
    <section aria-labelledby="telemetry-title">
      <h2 id="telemetry-title">Telemetry</h2>
      {picker}
      {history.error && <ErrorNote error={history.error} action={<button onClick={history.reload}>Retry</button>} />}
      {history.data && history.data.length >= MAX_POINTS && (
        <p class="muted">Showing the newest {MAX_POINTS} readings of this window.</p>
      )}
      {!history.loading && data[0].length === 0 ? (
        <Empty>No telemetry in this window. Pick a longer window, or check that the VEN is reporting.</Empty>
      ) : (
        <Chart
          title={`Used, shed and baseline power of ${venId}`}
          series={telemetrySeries}
          data={data}
          xRange={[range.start / 1000, Math.max(range.end / 1000, data[0][data[0].length - 1] ?? 0)]}
        />
      )}
    </section>
  );
}

const circuitSeries: SeriesSpec[] = [{ label: 'Current', color: '#1f5fbf', unit: 'kW' }];

function CircuitHistory({
  venId,
  circuits,
  range,
}: {
  venId: string;
  circuits: readonly ShadowCircuit[];
  range: { start: number; end: number };
}) {
  const { api } = useApp();
  const [load, setLoad] = useQueryParam('load', '');
  const loadId = load || circuits[0]?.id || '';
  const history = useAsync(
    () =>
      loadId
        ? api.all<CircuitPoint>(
            `/api/vens/${encodeURIComponent(venId)}/circuits/history`,
            { load_id: loadId, start: new Date(range.start).toISOString(), end: new Date(range.end).toISOString() },
            MAX_POINTS,
          )
        : Promise.resolve([]),
    [venId, loadId, range.start, range.end],
  );
  const data = useMemo(() => {
    const points = [...(history.data ?? [])].reverse();
    const x = new Float64Array(points.map((p) => Date.parse(p.timestamp) / 1000));
    const y = points.map((p) => {
      const r = p as Record<string, unknown>;
      const v = r.currentKw ?? r.currentPowerKw;
      return typeof v === 'number' ? v : null;
    });
    return [x, y] as const;
  }, [history.data]);
  return (
    <section aria-labelledby="circuits-title">
      <h2 id="circuits-title">Circuit history</h2>
      <div class="toolbar">
        <label class="inline">
          Circuit
          <select value={loadId} onChange={(e) => setLoad(e.currentTarget.value)}>
            {circuits.length === 0 && loadId && <option value={loadId}>{loadId}</option>}
            {circuits.map((c) => (
              <option value={c.id}>{c.name ?? c.id}</option>
            ))}
          </select>
        </label>
        <span class="muted">same window as the telemetry</span>
      </div>
      {history.error && <ErrorNote error={history.error} />}
      {!loadId ? (
        <Empty>The circuits are listed once the VEN reports its shadow.</Empty>
      ) : !history.loading && data[0].length === 0 ? (
        <Empty>No samples of this circuit in the window.</Empty>
      ) : (
        <Chart
          title={`Power of circuit ${loadId}`}
          series={circuitSeries}
          data={data}
          height={200}
          xRange={[range.start / 1000, range.end / 1000]}
        />
      )}
    </section>
  );
}

function EventHistory({ venId }: { venId: string }) {
  const { api } = useApp();
  const history = useAsync(
    () => api.get<{ items: VenEvent[] }>(`/api/vens/${encodeURIComponent(venId)}/events`, { limit: 50 }),
    [venId],
  );
  useLiveMessages((m) => m.topic === `ven/ack/${venId}` && history.reload(), [venId]);
  const items = history.data?.items ?? [];
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Event history (24 h)</h2>
      {history.error && <ErrorNote error={history.error} />}
      {history.data && items.length === 0 && <Empty>No event or restore in the last 24 hours.</Empty>}
      {items.length > 0 && (
        <table class="grid">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Command</th>
              <th scope="col">Status</th>
              <th scope="col">Requested</th>
              <th scope="col">Actual</th>
              <th scope="col">Circuits curtailed</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => {
              const r = e as Record<string, unknown>;
              const curtailed = Array.isArray(r.circuits_curtailed)
                ? (r.circuits_curtailed as { name?: string; loadId: string }[])
                : [];
              return (
                <tr key={`${e.correlationId}-${e.timestamp}`}>
                  <td>{time(e.timestamp)}</td>
                  <td>{e.op}</td>
                  <td>{String(r.status ?? DASH)}</td>
                  <td class="num">{kw(r.requested_shed_kw as number | undefined)}</td>
                  <td class="num">{kw(r.actual_shed_kw as number | undefined)}</td>
                  <td>{curtailed.map((c) => c.name ?? c.loadId).join(', ') || DASH}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
