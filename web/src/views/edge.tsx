// Data-centre edge nodes: the fleet's edge totals (GET /api/portfolio's `edge`), each node's draw, battery and host
// (CPU, RAM, disk) with its online state (offline is loud), and a battery command to a node through its preview (a dry
// run), a confirm, and the command's tracking until the node's ACK.
import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { EdgeCommandPlan, EdgeCommandSent, EdgeNode, Page, Portfolio } from '../api/types.js';
import { CommandTracker } from '../components/command-tracker.js';
import { useSend } from '../components/use-send.js';
import { Badge, Confirm, Empty, ErrorNote, Field, RequiresRole, Tile } from '../components/ui.js';
import { useApp, useAsync, useInterval } from '../context.js';
import { ago, DASH, kw, num, pct } from '../format.js';

/** How often the list and the totals are re-read (a node reports every 5 s). */
const REFRESH_MS = 5_000;

type Payload = Record<string, unknown>;
const payloadOf = (node: EdgeNode): Payload => (node.latest?.payload ?? {}) as Payload;
const numberOf = (p: Payload, key: string) => (typeof p[key] === 'number' ? (p[key] as number) : undefined);

export function Edge() {
  const { api } = useApp();
  const nodes = useAsync(() => api.get<Page<EdgeNode>>('/api/edge?limit=500'), []);
  const portfolio = useAsync(() => api.get<Portfolio>('/api/portfolio'), []);
  useInterval(() => {
    nodes.reload();
    portfolio.reload();
  }, REFRESH_MS);
  const list = [...(nodes.data?.items ?? [])].sort((a, b) => a.dcId.localeCompare(b.dcId));
  const totals = portfolio.data?.edge;
  return (
    <>
      <h1>Edge nodes</h1>
      <section aria-label="Edge totals" class="tiles">
        <Tile
          label="Nodes online"
          value={totals ? `${totals.online} / ${totals.nodes}` : DASH}
          hint={totals && totals.online < totals.nodes ? `${totals.nodes - totals.online} offline` : undefined}
        />
        <Tile label="Draw" value={kw(totals?.power_kw)} hint="online nodes" />
        <Tile label="Battery" value={num(totals?.battery_kwh, 'kWh')} hint={`SOC ${pct(totals?.soc_pct)}`} />
        <Tile label="Can discharge" value={kw(totals?.available_discharge_kw)} hint="now, for an hour" />
        <Tile label="Can charge" value={kw(totals?.available_charge_kw)} hint="now, for an hour" />
      </section>
      {nodes.error && <ErrorNote error={nodes.error} />}
      {list.length === 0 ? (
        <Empty>
          {nodes.loading
            ? 'Loading…'
            : 'No edge node has reported yet. Start one with npm run agent -- --mode edge (npm start runs two).'}
        </Empty>
      ) : (
        <>
          <NodeTable nodes={list} />
          <section aria-labelledby="edge-command-title">
            <h2 id="edge-command-title">Command a battery</h2>
            <RequiresRole role="operator" what="commanding an edge node">
              <EdgeCommand nodes={list} />
            </RequiresRole>
          </section>
        </>
      )}
    </>
  );
}

function NodeTable({ nodes }: { nodes: EdgeNode[] }) {
  return (
    <section aria-labelledby="edge-nodes-title">
      <h2 id="edge-nodes-title">Nodes</h2>
      <table class="grid">
        <caption class="sr-only">Edge nodes</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">State</th>
            <th scope="col">Draw</th>
            <th scope="col">SOC</th>
            <th scope="col">Battery</th>
            <th scope="col">Rating</th>
            <th scope="col">CPU</th>
            <th scope="col">RAM</th>
            <th scope="col">Disk</th>
            <th scope="col">Location</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => {
            const p = payloadOf(n);
            const meta = (typeof p.meta === 'object' && p.meta ? p.meta : {}) as Payload;
            const state = n.online ? 'online' : 'offline';
            return (
              <tr key={n.dcId} class={`row-${state}`} data-node={n.dcId}>
                <th scope="row">{n.dcId}</th>
                <td>
                  <Badge tone={n.online ? 'ok' : 'bad'}>{state}</Badge>
                </td>
                <td class="num">{kw(numberOf(p, 'power_kw'))}</td>
                <td class="num">{num(numberOf(p, 'soc'), '%')}</td>
                <td class="num">{num(n.battery_kwh, 'kWh')}</td>
                <td class="num">{kw(n.capacity_kw)}</td>
                <td class="num">{pct(numberOf(p, 'cpu'))}</td>
                <td class="num">{pct(numberOf(p, 'ram'))}</td>
                <td class="num">{pct(numberOf(p, 'disk'))}</td>
                <td>{typeof meta.location === 'string' ? meta.location : DASH}</td>
                <td>{n.lastSeen ? ago(Date.parse(n.lastSeen)) : DASH}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

const ACTIONS = {
  discharge: 'Discharge',
  charge: 'Charge',
  set_power: 'Set power',
  stop: 'Stop',
} as const;
type Action = keyof typeof ACTIONS;

type Plan = EdgeCommandPlan;
type Sent = EdgeCommandSent;

function EdgeCommand({ nodes }: { nodes: EdgeNode[] }) {
  const { api } = useApp();
  const { busy, send: post } = useSend();
  const [dcId, setDcId] = useState(nodes[0]!.dcId);
  const [action, setAction] = useState<Action>('discharge');
  const [power, setPower] = useState('10');
  const [plan, setPlan] = useState<Plan>();
  const [confirm, setConfirm] = useState(false);
  const [sent, setSent] = useState<{ correlationId: string; label: string }[]>([]);
  const [error, setError] = useState<{ field?: string | undefined; message: string }>();
  const path = `/api/edge/${encodeURIComponent(dcId)}/commands`;
  const body = () => ({ action, params: action === 'stop' ? {} : { kw: Number(power) } });
  const label = () => `${ACTIONS[action]}${action === 'stop' ? '' : ` ${num(Number(power), 'kW', 2)}`} on ${dcId}`;
  const fail = (err: unknown) =>
    setError({ field: err instanceof ApiError ? err.field : undefined, message: (err as Error).message });

  const send = async () => {
    setConfirm(false);
    setError(undefined);
    try {
      const res = await post<Sent>(path, body());
      if (!res) return;
      setSent((s) => [{ correlationId: res.correlationId, label: label() }, ...s].slice(0, 5));
      setPlan(undefined);
    } catch (err) {
      fail(err);
    }
  };

  return (
    <>
      <form
        class="form-row"
        onInput={() => setPlan(undefined)}
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            setPlan(await api.post<Plan>(path, { ...body(), dry_run: true }));
          } catch (err) {
            fail(err);
          }
        }}
      >
        <Field label="Node">
          <select name="dcId" value={dcId} onChange={(e) => (setDcId(e.currentTarget.value), setPlan(undefined))}>
            {nodes.map((n) => (
              <option value={n.dcId}>
                {n.dcId}
                {n.online ? '' : ' (offline)'}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Action">
          <select
            name="action"
            value={action}
            onChange={(e) => (setAction(e.currentTarget.value as Action), setPlan(undefined))}
          >
            {Object.entries(ACTIONS).map(([k, text]) => (
              <option value={k}>{text}</option>
            ))}
          </select>
        </Field>
        {action !== 'stop' && (
          <Field
            label="Power (kW)"
            hint={action === 'set_power' ? '+ charge / − discharge' : undefined}
            error={error?.field === 'params.kw' ? error.message : undefined}
          >
            <input
              type="number"
              name="kw"
              step="0.1"
              required
              value={power}
              onInput={(e) => setPower(e.currentTarget.value)}
            />
          </Field>
        )}
        <button type="submit">Preview</button>
      </form>
      {error && error.field !== 'params.kw' && <ErrorNote error={error.message} />}
      {plan && (
        <div class="plan" aria-label="Command preview">
          <p>
            {plan.dcId} will receive <code>{JSON.stringify(plan.command)}</code> on <code>{plan.topic}</code>.{' '}
            {plan.online ? (
              <Badge tone="ok">online</Badge>
            ) : (
              <Badge tone="bad">offline: it will time out unless the node reconnects in time</Badge>
            )}
          </p>
          <button type="button" class="primary" onClick={() => setConfirm(true)} disabled={busy}>
            {busy ? 'Sending…' : 'Send…'}
          </button>
        </div>
      )}
      {confirm && plan && (
        <Confirm
          title={`${label()}?`}
          confirm="Send command"
          onConfirm={() => void send()}
          onCancel={() => setConfirm(false)}
        >
          <p>
            {plan.dcId} receives {JSON.stringify(plan.command)} and acknowledges it on its ack topic; a node that does
            not answer in time shows timed-out.
          </p>
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
