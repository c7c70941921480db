// A node's transaction ledger: the API's re-check of its hash chain (intact up to its head, or broken at the first
// entry that does not check), and its entries newest first, a settlement with its event, energy, tariff and amount.
import { useState } from 'preact/hooks';
import type { LedgerEntry, Verification } from '../../../lambdas/core/records/ledger.js';
import type { Page } from '../api/types.js';
import { Badge, Empty, Field, Loaded, Pager } from '../components/ui.js';
import { useApp, useAsync, useLive, usePages } from '../context.js';
import { DASH, num, time } from '../format.js';
import { hrefOf, navigate } from '../router.js';

export function Ledger({ nodeId }: { nodeId?: string | undefined }) {
  return (
    <>
      <h1>Ledger{nodeId ? ` of ${nodeId}` : ''}</h1>
      <NodePicker nodeId={nodeId} />
      {nodeId ? <NodeLedger key={nodeId} nodeId={nodeId} /> : <VenLinks />}
    </>
  );
}

/** Any node by id (a VEN, a DER asset, a gateway, a Winter River node): the ledger is kept per device. */
function NodePicker({ nodeId }: { nodeId?: string | undefined }) {
  const [value, setValue] = useState(nodeId ?? '');
  return (
    <form
      class="form-row"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) navigate(hrefOf.ledger(value.trim()));
      }}
    >
      <Field label="Node id" hint="a VEN, DER asset, gateway or Winter River node">
        <input type="text" name="nodeId" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </Field>
      <button type="submit">Show ledger</button>
    </form>
  );
}

function VenLinks() {
  const live = useLive();
  const ids = [...live.vens.keys()].sort();
  return ids.length === 0 ? (
    <Empty>Type a node id above: no VEN is known yet.</Empty>
  ) : (
    <nav aria-label="Ledgers of the VENs">
      <ul class="chips">
        {ids.map((id) => (
          <li key={id}>
            <a class="chip" href={hrefOf.ledger(id)}>
              {id}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function NodeLedger({ nodeId }: { nodeId: string }) {
  const { api } = useApp();
  const pages = usePages();
  const path = `/api/transactions/${encodeURIComponent(nodeId)}`;
  const list = useAsync(() => api.get<Page<LedgerEntry>>(path, { limit: 50, next: pages.next }), [path, pages.next]);
  const check = useAsync(() => api.get<Verification>(`${path}/verify`), [path]);
  const notFound = `No ledger for ${nodeId}`;
  return (
    <>
      <p>
        <a href={hrefOf.node(nodeId)}>Analytics and data quality of {nodeId}</a>
      </p>
      <section aria-labelledby="verify-title">
        <h2 id="verify-title">Chain check</h2>
        <Loaded state={check} notFound={notFound}>
          {(v) => <VerifyResult v={v} />}
        </Loaded>
        <button
          type="button"
          disabled={check.loading}
          onClick={() => {
            check.reload();
            list.reload();
          }}
        >
          Check again
        </button>
      </section>
      <section aria-labelledby="entries-title">
        <h2 id="entries-title">Entries</h2>
        <Loaded state={list} notFound={notFound}>
          {(page) =>
            page.items.length === 0 ? (
              <Empty>
                No entries for {nodeId}
                {pages.first ? '' : ' on this page'}.
              </Empty>
            ) : (
              <Entries items={page.items} bad={check.data?.firstBad?.seq} />
            )
          }
        </Loaded>
        <Pager first={pages.first} next={list.data?.next} onNewer={pages.newer} onOlder={pages.older} />
      </section>
    </>
  );
}

function VerifyResult({ v }: { v: Verification }) {
  if (v.entries === 0) return <p data-testid="verify-result">Nothing to check: the chain has no entry.</p>;
  const head = v.head && (
    <>
      head seq {v.head.seq}, hash <code class="hash">{v.head.hash}</code>
    </>
  );
  return v.ok ? (
    <p data-testid="verify-result">
      <Badge tone="ok">intact</Badge> All {v.entries} entries check, oldest first; {head}. Keep the head elsewhere (a
      statement, an export): the check cannot see the newest entries removed.
    </p>
  ) : (
    <p data-testid="verify-result">
      <Badge tone="bad">broken at seq {v.firstBad?.seq}</Badge> {v.firstBad?.reason}.{' '}
      {head ? <>The entries before it check ({head}).</> : 'No entry before it checks.'}
    </p>
  );
}

const typeTones: Record<string, 'ok' | 'info' | 'muted' | 'warn'> = {
  settlement: 'ok',
  payment: 'ok',
  'dr-event': 'info',
  dispatch: 'info',
  adjustment: 'warn',
};

/** `bad`: the seq the chain check names, marked in the list. */
function Entries({ items, bad }: { items: readonly LedgerEntry[]; bad?: number | undefined }) {
  return (
    <div class="scroller">
      <table class="grid" aria-label="Ledger entries">
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">Reference</th>
            <th scope="col">Details</th>
            <th scope="col">Hash</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.seq} class={e.seq === bad ? 'row-bad' : undefined}>
              <th scope="row" class="num">
                {e.seq}
                {e.seq === bad && (
                  <>
                    {' '}
                    <Badge tone="bad">fails the check</Badge>
                  </>
                )}
              </th>
              <td>{time(e.at)}</td>
              <td>
                <Badge tone={typeTones[e.type] ?? 'muted'}>{e.type}</Badge>
              </td>
              <td class="wrap">{e.ref ?? DASH}</td>
              <td class="wrap">{e.type === 'settlement' ? <Settlement data={e.data} /> : summary(e.data)}</td>
              <td>
                <code title={e.hash}>{e.hash.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A settlement as the settlement job books it: the event, the energy delivered, the tariff and the amount (null, with a
 * `note` saying why, without a tariff or a measurement).
 */
function Settlement({ data }: { data: Record<string, unknown> }) {
  const n = (k: string) => (typeof data[k] === 'number' ? (data[k] as number) : undefined);
  const currency = typeof data.currency === 'string' ? data.currency : '';
  const eventId = typeof data.eventId === 'string' ? data.eventId : undefined;
  return (
    <>
      {eventId && (
        <>
          event <a href={hrefOf.event(eventId)}>{eventId}</a> ·{' '}
        </>
      )}
      delivered {num(n('delivered_kwh'), 'kWh', 3)} × {num(n('tariff_per_kwh'), `${currency}/kWh`, 4)} ={' '}
      <strong data-testid="amount">{num(n('amount'), currency, 2)}</strong>
      {typeof data.note === 'string' && ` (${data.note})`}
    </>
  );
}

/** Any other entry's data in one line of text: scalars as they are, nested values as JSON. */
function summary(data: Record<string, unknown>): string {
  const text = Object.entries(data)
    .map(([k, v]) => `${k}: ${v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
  return text.length > 140 ? `${text.slice(0, 139)}…` : text || DASH;
}
