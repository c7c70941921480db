// Fleet demand-response events: plan one (allocation and shortfall before sending), send it, follow it, list the past.
import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { useSend } from '../components/use-send.js';
import type { EventCancel, EventEnd, FleetEventReport, FleetEventStart, FleetEventSummary } from '../api/types.js';
import { Badge, CommandStatus, Confirm, Empty, ErrorNote, Field, Pager, RequiresRole } from '../components/ui.js';
import { useApp, useAsync, useInterval, useLiveMessages, usePages } from '../context.js';
import { count, DASH, kw, num, time } from '../format.js';
import { hrefOf, navigate } from '../router.js';
import { PERFORMANCE_TOLERANCE } from '../../../lambdas/core/contracts/performance.js';

type EventSummary = FleetEventSummary;

/** The allocation hands out whole loads: it lands near the request, within the events' tolerance when it can. */
const TOLERANCE = PERFORMANCE_TOLERANCE;

type Plan = Pick<FleetEventStart, 'allocated_kw' | 'shortfall_kw' | 'excluded' | 'committed' | 'name' | 'start'> & {
  allocations: readonly { venId: string; shed_kw: number }[];
  /** The online edge batteries' discharge through the window: listed, not part of the event. */
  edge?: { available_discharge_kw: number; nodes: readonly { dcId: string; discharge_kw: number }[] };
};

export function Events() {
  return (
    <>
      <h1>DR events</h1>
      <section aria-labelledby="new-event-title">
        <h2 id="new-event-title">New fleet event</h2>
        <RequiresRole role="operator" what="planning and sending a fleet event">
          <NewEvent />
        </RequiresRole>
      </section>
      <PastEvents />
    </>
  );
}

function NewEvent() {
  const { api } = useApp();
  const [shed, setShed] = useState('20');
  const [duration, setDuration] = useState('900');
  const [vens, setVens] = useState('');
  const [name, setName] = useState('');
  /** `datetime-local`: the operator's own time zone; empty = now. */
  const [startAt, setStartAt] = useState('');
  const [plan, setPlan] = useState<Plan>();
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<{ field?: string | undefined; message: string }>();
  const { busy, send: post } = useSend();
  const body = () => ({
    shed_kw: Number(shed),
    duration_sec: Number(duration),
    ...(vens.trim() && { ven_ids: vens.split(/[\s,]+/).filter(Boolean) }),
    ...(name.trim() && { name: name.trim() }),
    ...(startAt && { start_at: new Date(startAt).toISOString() }),
  });
  const fail = (err: unknown) =>
    setError({ field: err instanceof ApiError ? err.field : undefined, message: (err as Error).message });

  const preview = async () => {
    setError(undefined);
    try {
      setPlan(await api.post<Plan>('/api/events', { ...body(), dry_run: true }));
    } catch (err) {
      fail(err);
    }
  };
  const send = async () => {
    setConfirm(false);
    try {
      setError(undefined);
      const started = await post<FleetEventStart>('/api/events', body());
      if (started) navigate(hrefOf.event(started.eventId));
    } catch (err) {
      fail(err);
    }
  };
  const fieldError = (f: string) => (error?.field?.startsWith(f) ? error.message : undefined);

  return (
    <>
      <form
        class="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          void preview();
        }}
        onInput={() => setPlan(undefined)}
      >
        <Field label="Shed (kW)" error={fieldError('shed_kw')}>
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
        <Field label="Duration (s)" error={fieldError('duration_sec')}>
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
        <Field
          label="VENs (optional)"
          hint="ids separated by commas; empty = every online VEN"
          error={fieldError('ven_ids')}
        >
          <input type="text" name="ven_ids" value={vens} onInput={(e) => setVens(e.currentTarget.value)} />
        </Field>
        <Field label="Name (optional)" hint="default: what it sheds and when" error={fieldError('name')}>
          <input type="text" name="name" maxLength={80} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field
          label="Start (optional)"
          hint="your local time; empty = now, else 1 min to 7 days ahead"
          error={fieldError('start_at')}
        >
          <input
            type="datetime-local"
            name="start_at"
            value={startAt}
            onInput={(e) => setStartAt(e.currentTarget.value)}
          />
        </Field>
        <button type="submit">Preview allocation</button>
      </form>
      {error && !error.field && <ErrorNote error={error.message} />}
      {plan && (
        <div class="plan" aria-label="Allocation preview">
          <h3>Allocation preview</h3>
          <p>
            <strong>{plan.name}</strong> · {startAt ? `starts ${time(plan.start)}` : 'starts now'}
          </p>
          <PlanTable plan={plan} requested={Number(shed)} />
          {plan.edge && plan.edge.nodes.length > 0 && (
            <p data-testid="edge-capacity">
              Edge batteries could add {kw(plan.edge.available_discharge_kw)} through this window (
              {plan.edge.nodes.map((n) => `${n.dcId} ${kw(n.discharge_kw)}`).join(', ')}): not part of the event;
              discharge them from <a href="/edge">Edge nodes</a>.
            </p>
          )}
          <button
            type="button"
            class="primary"
            onClick={() => setConfirm(true)}
            disabled={busy || plan.allocations.length === 0}
          >
            {busy ? 'Sending…' : startAt ? 'Schedule event…' : 'Send event…'}
          </button>
        </div>
      )}
      {confirm && plan && (
        <Confirm
          title={startAt ? 'Schedule this fleet event?' : 'Send this fleet event?'}
          confirm={startAt ? 'Schedule event' : 'Send event'}
          onConfirm={() => void send()}
          onCancel={() => setConfirm(false)}
        >
          <p>
            {plan.name}: {count(plan.allocations.length, 'VEN')} will shed {kw(plan.allocated_kw)} in total for{' '}
            {num(Number(duration), 's', 0)}
            {startAt ? <>, from {time(plan.start)} (held for it until then)</> : null}
            {plan.shortfall_kw > 0 && <>, {kw(plan.shortfall_kw)} short of the request</>}.
          </p>
        </Confirm>
      )}
    </>
  );
}

function PlanTable({ plan, requested }: { plan: Plan; requested: number }) {
  return (
    <>
      <p>
        Requested {kw(requested)} · allocated {kw(plan.allocated_kw)} ·{' '}
        {plan.shortfall_kw > requested * TOLERANCE ? (
          <Badge tone="warn">shortfall {kw(plan.shortfall_kw)}</Badge>
        ) : (
          <Badge tone="ok">covered within {TOLERANCE * 100}%</Badge>
        )}
      </p>
      <table class="grid">
        <thead>
          <tr>
            <th scope="col">VEN</th>
            <th scope="col">Allocated shed</th>
          </tr>
        </thead>
        <tbody>
          {plan.allocations.map((a) => (
            <tr key={a.venId}>
              <th scope="row">{a.venId}</th>
              <td class="num">{kw(a.shed_kw)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {plan.excluded.length > 0 && (
        <p class="muted">Left out: {plan.excluded.map((x) => `${x.venId} (${x.reason})`).join(', ')}</p>
      )}
      {plan.committed.length > 0 && (
        <p class="muted" aria-label="Already committed">
          Already committed to other events in this window (not allocated again):{' '}
          {plan.committed.map((c) => `${c.venId} ${kw(c.shed_kw)} to ${c.eventId} until ${time(c.until)}`).join(', ')}
        </p>
      )}
    </>
  );
}

const statusTones = { scheduled: 'info', running: 'info', ended: 'muted', cancelled: 'muted', settled: 'ok' } as const;
const resultTones = { pass: 'ok', over: 'warn', fail: 'bad' } as const;

/** An event's result: none while it has not closed, never for a cancelled one. */
function ResultBadge({ result, status }: { result: 'pass' | 'fail' | 'over' | null; status: EventSummary['status'] }) {
  if (result !== null) return <Badge tone={resultTones[result]}>{result}</Badge>;
  return status === 'cancelled' ? <span class="muted">{DASH}</span> : <span class="muted">none yet</span>;
}

function PastEvents() {
  const { api } = useApp();
  const pages = usePages();
  const list = useAsync(
    () => api.get<{ items: EventSummary[]; next?: string }>('/api/events', { limit: 20, next: pages.next }),
    [pages.next],
  );
  return (
    <section aria-labelledby="past-title">
      <h2 id="past-title">Events</h2>
      {list.error && <ErrorNote error={list.error} action={<button onClick={list.reload}>Retry</button>} />}
      {list.data && list.data.items.length === 0 && <Empty>No event yet. Preview and send one above.</Empty>}
      {list.data && list.data.items.length > 0 && (
        <table class="grid" aria-label="Events">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Start</th>
              <th scope="col">Requested</th>
              <th scope="col">Measured</th>
              <th scope="col">Result</th>
              <th scope="col">VENs</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((e) => (
              <tr key={e.eventId} data-event={e.eventId}>
                <th scope="row">
                  <a href={hrefOf.event(e.eventId)}>{e.name}</a>
                  {e.kind === 'ven' && <span class="muted"> · single VEN</span>}
                </th>
                <td>
                  <Badge tone={statusTones[e.status]}>{e.status}</Badge>
                </td>
                <td>{time(e.startedAt)}</td>
                <td class="num">{kw(e.requested_kw)}</td>
                <td class="num">{kw(e.measured_shed_kw)}</td>
                <td>
                  <ResultBadge result={e.result} status={e.status} />
                </td>
                <td class="num">{e.vens}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager first={pages.first} next={list.data?.next} onNewer={pages.newer} onOlder={pages.older} />
    </section>
  );
}

type Action = { kind: 'end'; preview: EventEnd } | { kind: 'cancel'; preview: EventCancel };

/**
 * End (a running event) or cancel (a scheduled one): a dry run first says what would happen, a dialog asks, then the
 * command goes with an Idempotency-Key (useSend).
 */
function LifecycleActions({ report, onDone }: { report: FleetEventReport; onDone: () => void }) {
  const { api } = useApp();
  const { busy, send } = useSend();
  const [action, setAction] = useState<Action>();
  const [error, setError] = useState<string>();
  const path = (kind: Action['kind']) => `/api/events/${encodeURIComponent(report.eventId)}/${kind}`;
  const preview = async (kind: Action['kind']) => {
    setError(undefined);
    try {
      const answer = await api.post<EventEnd & EventCancel>(path(kind), { dry_run: true });
      setAction(kind === 'end' ? { kind, preview: answer } : { kind, preview: answer });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const confirm = async () => {
    const kind = action!.kind;
    setAction(undefined);
    try {
      await send(path(kind), {});
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (report.status !== 'running' && report.status !== 'scheduled') return null;
  return (
    <RequiresRole role="operator" what="ending or cancelling an event">
      <p>
        {report.status === 'running' ? (
          <button type="button" onClick={() => void preview('end')} disabled={busy}>
            {busy ? 'Ending…' : 'End event now…'}
          </button>
        ) : (
          <button type="button" onClick={() => void preview('cancel')} disabled={busy}>
            {busy ? 'Cancelling…' : 'Cancel event…'}
          </button>
        )}
      </p>
      {error && <ErrorNote error={error} />}
      {action?.kind === 'end' && (
        <Confirm
          title="End this event now?"
          confirm="End event"
          onConfirm={() => void confirm()}
          onCancel={() => setAction(undefined)}
        >
          <p>
            {count(action.preview.restore.length, 'VEN')} will be sent a restore now; the event is measured and settled
            up to now.
          </p>
        </Confirm>
      )}
      {action?.kind === 'cancel' && (
        <Confirm
          title="Cancel this scheduled event?"
          confirm="Cancel event"
          onConfirm={() => void confirm()}
          onCancel={() => setAction(undefined)}
        >
          <p>
            Nothing has been sent. {count(action.preview.vens.length, 'VEN')} freed for other events; nothing is
            settled.
          </p>
        </Confirm>
      )}
    </RequiresRole>
  );
}

export function EventDetail({ eventId }: { eventId: string }) {
  const { api } = useApp();
  const report = useAsync(() => api.get<FleetEventReport>(`/api/events/${encodeURIComponent(eventId)}`), [eventId]);
  const r = report.data;
  // the stored report (report_computed_at) comes once the event is settled: its CSV is ready from then
  const settled = r !== undefined && 'report_computed_at' in r;
  // running: every 5 s; ended or scheduled: every 30 s (until settled, or the start); cancelled or settled: never
  useInterval(
    report.reload,
    r?.status === 'running' || r === undefined ? 5000 : 30_000,
    !settled && r?.status !== 'cancelled',
  );
  useLiveMessages(
    (m) =>
      m.topic.startsWith('ven/ack/') &&
      r?.vens.some((v) => v.correlationId === (m.payload as { correlationId?: string }).correlationId) &&
      report.reload(),
    [r],
  );
  return (
    <>
      <h1>{r ? r.name : 'Event'}</h1>
      {report.error && <ErrorNote error={report.error} action={<a href="/events">All events</a>} />}
      {r && (
        <>
          <p>
            <Badge tone={statusTones[r.status]}>{r.status}</Badge> {time(r.start)} → {time(r.end)} · result:{' '}
            <ResultBadge result={r.result} status={r.status} />
            <span class="muted">
              {' · '}
              {r.kind === 'ven' ? 'single-VEN event' : 'fleet event'} {eventId}
            </span>
          </p>
          <LifecycleActions report={r} onDone={report.reload} />
          <section aria-label="Event totals" class="tiles">
            <div class="tile">
              <div class="tile-label">Requested</div>
              <div class="tile-value">{kw(r.requested_kw)}</div>
            </div>
            <div class="tile">
              <div class="tile-label">Allocated</div>
              <div class="tile-value">{kw(r.allocated_kw)}</div>
              {r.shortfall_kw > 0 && <div class="tile-hint">shortfall {kw(r.shortfall_kw)}</div>}
            </div>
            <div class="tile">
              <div class="tile-label">Acknowledged</div>
              <div class="tile-value" data-testid="acknowledged">
                {kw(r.acknowledged_kw)}
              </div>
            </div>
            <div class="tile">
              <div class="tile-label">Measured</div>
              <div class="tile-value" data-testid="measured">
                {kw(r.measured_shed_kw)}
              </div>
              <div class="tile-hint">against the baseline</div>
            </div>
          </section>
          <p class="muted">
            Baseline: {r.baseline_method}. Judged: {r.coverage_rule}.
          </p>
          <IntervalTable report={r} />
          <p>
            {settled ? (
              <CsvDownload eventId={eventId} />
            ) : (
              <span class="muted">The report CSV is written when the event is settled, 5 minutes after it ends.</span>
            )}
          </p>
          <table class="grid">
            <caption>Per VEN</caption>
            <thead>
              <tr>
                <th scope="col">VEN</th>
                <th scope="col">Command</th>
                <th scope="col">Allocated</th>
                <th scope="col">Acknowledged</th>
                <th scope="col">Online now</th>
                <th scope="col">Baseline</th>
                <th scope="col">Baseline method</th>
                <th scope="col">Measured</th>
                <th scope="col">Intervals passed</th>
              </tr>
            </thead>
            <tbody>
              {r.vens.map((v) => (
                <tr key={v.venId}>
                  <th scope="row">
                    <a href={hrefOf.ven(v.venId)}>{v.venId}</a>
                  </th>
                  <td>
                    <CommandStatus status={v.status} />
                  </td>
                  <td class="num">{kw(v.shed_kw)}</td>
                  <td class="num">{kw(v.actual_shed_kw)}</td>
                  <td>{v.online ? <Badge tone="ok">online</Badge> : <Badge tone="warn">offline</Badge>}</td>
                  <td class="num">{kw(v.baseline_kw)}</td>
                  <td title={v.baseline.days.join(', ')}>{baselineMethod(v.baseline)}</td>
                  <td class="num">{kw(v.measured_shed_kw)}</td>
                  <td class="num">{passed(v.intervals)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {r.excluded.length > 0 && (
            <p class="muted">Left out: {r.excluded.map((x) => `${x.venId} (${x.reason})`).join(', ') || DASH}</p>
          )}
        </>
      )}
    </>
  );
}

type Interval = FleetEventReport['intervals'][number];

const baselineMethod = (b: FleetEventReport['vens'][number]['baseline']) =>
  b.adjustment ? `${b.method} · ×${b.adjustment.factor}${b.adjustment.capped ? ' (capped)' : ''}` : b.method;

const passed = (intervals: readonly { result?: string; pass: boolean | null }[]) => {
  const judged = intervals.filter((i) => i.pass !== null);
  return judged.length ? `${judged.filter((i) => i.pass).length} / ${judged.length}` : DASH;
};

const intervalTones = {
  running: 'info',
  pass: 'ok',
  over: 'warn',
  fail: 'bad',
  insufficient: 'warn',
  'no-data': 'muted',
} as const;
const intervalWords = {
  running: 'running',
  pass: 'pass',
  over: 'over',
  fail: 'fail',
  insufficient: 'too few readings',
  'no-data': 'no data',
} as const;

/** An interval's result (reports stored before results were kept have only `pass`). */
function IntervalResult({ iv }: { iv: Interval }) {
  const result = iv.result ?? (iv.pass === null ? 'no-data' : iv.pass ? 'pass' : 'fail');
  return (
    <>
      <Badge tone={intervalTones[result]}>{intervalWords[result]}</Badge>
      {iv.reason && <span class="muted"> {iv.reason}</span>}
    </>
  );
}

function IntervalTable({ report }: { report: FleetEventReport }) {
  return (
    <table class="grid" aria-label="Performance per interval">
      <caption>
        Per 5-minute interval: the fleet&apos;s measured shed against the request (pass within ±{report.tolerance * 100}
        %, on enough readings)
      </caption>
      <thead>
        <tr>
          <th scope="col">Interval</th>
          <th scope="col">VENs</th>
          <th scope="col">Baseline</th>
          <th scope="col">Metered</th>
          <th scope="col">Measured shed</th>
          <th scope="col">Commitment</th>
          <th scope="col">Readings</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {report.intervals.map((iv: Interval) => (
          <tr key={iv.start}>
            <th scope="row">
              {time(iv.start)} → {time(iv.end)}
            </th>
            <td class="num">{iv.vens}</td>
            <td class="num">{kw(iv.baseline_kw)}</td>
            <td class="num">{kw(iv.metered_kw)}</td>
            <td class="num">{kw(iv.shed_kw)}</td>
            <td class="num">{kw(iv.commitment_kw)}</td>
            <td class="num">
              {iv.expected_samples === undefined
                ? iv.samples
                : `${iv.samples} / ${iv.expected_samples} (${Math.round((iv.coverage ?? 0) * 100)}%)`}
            </td>
            <td>
              <IntervalResult iv={iv} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The CSV is a file the API links to (a presigned download, valid a few minutes): the link is asked for with the
 * bearer token, then opened; the file itself says it is an attachment, so the page stays.
 */
function CsvDownload({ eventId }: { eventId: string }) {
  const { api } = useApp();
  const [error, setError] = useState<string>();
  const download = async () => {
    setError(undefined);
    try {
      const { url } = await api.link(`/api/events/${encodeURIComponent(eventId)}/report.csv`);
      const a = document.createElement('a');
      a.href = url;
      a.rel = 'noopener';
      a.click();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <button type="button" onClick={() => void download()}>
        Download report (CSV)
      </button>
      {error && <ErrorNote error={error} />}
    </>
  );
}
