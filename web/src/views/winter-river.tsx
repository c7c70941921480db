// Winter River: every node's status and readings, live, and a command to a node.
import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { useSend } from '../components/use-send.js';
import { Confirm, Empty, ErrorNote, Field, RequiresRole } from '../components/ui.js';
import type { WinterRiverSystem } from '../api/types.js';
import { PowerChain } from '../components/power-chain.js';
import { useApp, useAsync, useInterval, useLive } from '../context.js';
import { ago, num } from '../format.js';
import type { NodeRow } from '../live/store.js';

const READINGS: { key: string; label: string; unit: string; digits?: number }[] = [
  { key: 'power_kw', label: 'Power', unit: 'kW' },
  { key: 'voltage_in', label: 'Voltage', unit: 'V' },
  { key: 'current', label: 'Current', unit: 'A' },
  { key: 'wifi_rssi', label: 'RSSI', unit: 'dBm', digits: 0 },
  { key: 'uptime', label: 'Uptime', unit: 's', digits: 0 },
];

const tone = (status: string | null) => (status === 'ok' ? 'ok' : status === null ? 'unknown' : 'bad');

export function WinterRiver() {
  const live = useLive();
  const { api } = useApp();
  const system = useAsync(() => api.get<WinterRiverSystem>('/api/winter-river/system'), []);
  // the controller re-evaluates on every status: follow it while the view is open
  useInterval(system.reload, 2_000);
  const nodes = [...live.nodes.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  return (
    <>
      <h1>Winter River</h1>
      <div class="wr-layout">
        <div>
          {nodes.length === 0 && (
            <Empty>
              {live.loaded
                ? 'No Winter River node has reported yet. Start a node with npm run agent -- --mode winter-river.'
                : 'Loading…'}
            </Empty>
          )}
          <ul class="node-grid">
            {nodes.map((n) => (
              <NodeCard key={n.nodeId} node={n} />
            ))}
          </ul>
        </div>
        <section aria-labelledby="chain-title" class="wr-chain">
          <h2 id="chain-title">Power chain</h2>
          {system.data ? (
            <PowerChain system={system.data} />
          ) : system.error ? (
            <ErrorNote error={system.error} />
          ) : (
            <p class="muted">Loading…</p>
          )}
        </section>
      </div>
      {nodes.length > 0 && (
        <section aria-labelledby="node-command-title">
          <h2 id="node-command-title">Command a node</h2>
          <RequiresRole role="operator" what="commanding a node">
            <NodeCommand nodes={nodes} />
          </RequiresRole>
        </section>
      )}
    </>
  );
}

function NodeCard({ node }: { node: NodeRow }) {
  return (
    <li
      class={`node status-${tone(node.status)}`}
      aria-label={`${node.nodeId}: ${node.status ?? 'unknown'}`}
      data-status={node.status ?? ''}
    >
      <div class="node-head">
        <span class="node-name">{node.nodeId}</span>
        <span class="node-status">{node.status ?? 'unknown'}</span>
      </div>
      <dl>
        {READINGS.map((r) => (
          <>
            <dt>{r.label}</dt>
            <dd>{num(node.fields[r.key] as number | undefined, r.unit, r.digits ?? 1)}</dd>
          </>
        ))}
      </dl>
      <div class="muted small">{node.online ? `updated ${ago(node.lastSeen)}` : 'offline'}</div>
    </li>
  );
}

const COMMANDS = {
  fault_on: { label: 'Set fault', command: 'set_fault', params: { state: true } },
  fault_off: { label: 'Clear fault', command: 'set_fault', params: { state: false } },
} as const;

function NodeCommand({ nodes }: { nodes: NodeRow[] }) {
  const { busy, send: post } = useSend();
  const [nodeId, setNodeId] = useState(nodes[0]!.nodeId);
  const [choice, setChoice] = useState<keyof typeof COMMANDS>('fault_on');
  const [confirm, setConfirm] = useState(false);
  const [result, setResult] = useState('');
  const [error, setError] = useState('');
  const cmd = COMMANDS[choice];
  const send = async () => {
    setConfirm(false);
    setError('');
    try {
      const res = await post(`/api/winter-river/nodes/${encodeURIComponent(nodeId)}/command`, {
        command: cmd.command,
        params: cmd.params,
      });
      if (res === undefined) return;
      setResult(`${cmd.label} sent to ${nodeId}; the node answers with a fresh status.`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  return (
    <>
      <form
        class="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          setConfirm(true);
        }}
      >
        <Field label="Node">
          <select value={nodeId} onChange={(e) => setNodeId(e.currentTarget.value)}>
            {nodes.map((n) => (
              <option value={n.nodeId}>{n.nodeId}</option>
            ))}
          </select>
        </Field>
        <Field label="Command">
          <select value={choice} onChange={(e) => setChoice(e.currentTarget.value as keyof typeof COMMANDS)}>
            {Object.entries(COMMANDS).map(([k, c]) => (
              <option value={k}>{c.label}</option>
            ))}
          </select>
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Sending…' : 'Send…'}
        </button>
      </form>
      {result && <p role="status">{result}</p>}
      {error && <ErrorNote error={error} />}
      {confirm && (
        <Confirm
          title={`${cmd.label} on ${nodeId}?`}
          confirm="Send command"
          onConfirm={() => void send()}
          onCancel={() => setConfirm(false)}
        >
          <p>
            {nodeId} receives {cmd.command} {JSON.stringify(cmd.params)}.
          </p>
        </Confirm>
      )}
    </>
  );
}
