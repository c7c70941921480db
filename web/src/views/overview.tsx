// The fleet at a glance: portfolio tiles, every VEN (sortable, filterable, searchable), sites and Winter River nodes.
import { useMemo, useState } from 'preact/hooks';
import type { Agent } from '../api/types.js';
import { Badge, Empty, ErrorNote, Tile } from '../components/ui.js';
import { VirtualRows } from '../components/virtual-rows.js';
import { useApp, useAsync, useInterval, useLive } from '../context.js';
import { ago, kw, mw, num, pct, DASH } from '../format.js';
import type { LiveStore, VenRow } from '../live/store.js';
import { venState } from '../live/ven-state.js';
import { hrefOf, useQueryParam } from '../router.js';

const stateTone = { online: 'ok', stale: 'warn', offline: 'bad' } as const; // offline is the loud one: grey reads calm

export function Overview() {
  const live = useLive();
  return (
    <>
      <h1>Overview</h1>
      {live.loadError && !live.loaded && <ErrorNote error={`The fleet could not be loaded: ${live.loadError}`} />}
      <PortfolioTiles live={live} />
      <DerTiles live={live} />
      <VenTable live={live} />
      <div class="columns">
        <SitesSummary />
        <NodesSummary live={live} />
      </div>
    </>
  );
}

export function derTotals(live: LiveStore) {
  const gateways = [...live.gateways.values()];
  if (gateways.length === 0) {
    const bess = live.portfolio?.bess;
    return bess ? { mw: bess.mw, soc: bess.soc_pct } : undefined;
  }
  let total = 0;
  let stored = 0;
  let energy = 0;
  for (const g of gateways) {
    total += g.mw;
    for (const a of g.assets) {
      if (a.asset_type !== 'bess') continue;
      stored += a.soc_mwh ?? 0;
      energy += a.energy_mwh ?? 0;
    }
  }
  return { mw: total, soc: energy > 0 ? (stored / energy) * 100 : null };
}

function PortfolioTiles({ live }: { live: LiveStore }) {
  let used = 0;
  let shed = 0;
  let available = 0;
  let online = 0;
  for (const v of live.vens.values()) {
    if (!v.online) continue;
    online++;
    used += v.usedPowerKw ?? 0;
    shed += v.shedPowerKw ?? 0;
    available += v.availableShedKw ?? 0;
  }
  const der = derTotals(live);
  return (
    <section aria-label="Portfolio" class="tiles">
      <Tile label="Used" value={kw(used)} hint="online VENs" />
      <Tile label="Shed now" value={kw(shed)} />
      <Tile label="Available shed" value={kw(available)} />
      <Tile label="VENs online" value={`${online} / ${live.vens.size}`} />
      <Tile label="DER output" value={mw(der?.mw)} hint="+ discharge, − charge" />
      <Tile label="DER state of charge" value={pct(der?.soc)} />
    </section>
  );
}

const DER_TYPES: Record<string, string> = { bess: 'Batteries', pv: 'PV', wind: 'Wind', ev: 'EV charging' };

/** DER by asset type, from GET /api/portfolio (the inventory's assets, with what their gateways last reported). */
function DerTiles({ live }: { live: LiveStore }) {
  const byType = live.portfolio?.der?.by_type;
  if (!byType || Object.keys(byType).length === 0) return null;
  return (
    <section aria-label="DER by type" class="tiles">
      {Object.entries(byType).map(([type, t]) => (
        <Tile
          key={type}
          label={DER_TYPES[type] ?? type}
          value={mw(t.mw)}
          hint={`${t.online} / ${t.assets} online${type === 'bess' ? ` · ${num(t.available_discharge_mwh, 'MWh', 1)} to discharge, ${num(t.charge_headroom_mwh, 'MWh', 1)} to charge` : ''}`}
        />
      ))}
    </section>
  );
}

type SortKey = 'venId' | 'state' | 'usedPowerKw' | 'shedPowerKw' | 'batterySOC' | 'eventId' | 'lastSeen';
const columns: { key: SortKey; label: string }[] = [
  { key: 'venId', label: 'VEN' },
  { key: 'state', label: 'State' },
  { key: 'usedPowerKw', label: 'Used' },
  { key: 'shedPowerKw', label: 'Shed' },
  { key: 'batterySOC', label: 'Battery' },
  { key: 'eventId', label: 'Active event' },
  { key: 'lastSeen', label: 'Last seen' },
];

function VenTable({ live }: { live: LiveStore }) {
  const [search, setSearch] = useQueryParam('q', '');
  const [filter, setFilter] = useQueryParam('state', 'all');
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'venId', dir: 1 });
  const [clock, setClock] = useState(0);
  useInterval(() => setClock((c) => c + 1), 5000); // "last seen" and staleness move on when nothing arrives
  const now = Date.now();
  const rows = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const list = [...live.vens.values()].filter(
      (v) => (!needle || v.venId.toLowerCase().includes(needle)) && (filter === 'all' || venState(v, now) === filter),
    );
    const value = (v: VenRow) => (sort.key === 'state' ? venState(v, now) : v[sort.key]);
    return list.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === y) return a.venId < b.venId ? -1 : 1;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (x < y ? -1 : 1) * sort.dir;
    });
  }, [live.version, clock, search, filter, sort]);

  return (
    <section aria-labelledby="vens-title">
      <h2 id="vens-title">VENs</h2>
      <div class="toolbar">
        <label class="inline">
          Search
          <input type="search" value={search} placeholder="VEN id" onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <label class="inline">
          Show
          <select value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
            <option value="all">all</option>
            <option value="online">online</option>
            <option value="stale">stale</option>
            <option value="offline">offline</option>
          </select>
        </label>
        <span class="muted">
          {rows.length} of {live.vens.size}
        </span>
      </div>
      {live.vens.size === 0 ? (
        <Empty>
          {live.loaded
            ? 'No VEN has reported yet. Start a device agent (npm run agent) or the simulated fleet.'
            : 'Loading the fleet…'}
        </Empty>
      ) : (
        <VirtualRows
          caption="VENs"
          rows={rows}
          rowHeight={37}
          height={440}
          head={
            <tr>
              {columns.map((c) => (
                <th scope="col" aria-sort={sort.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                  <button
                    type="button"
                    class="sort"
                    onClick={() => setSort((s) => ({ key: c.key, dir: s.key === c.key ? (-s.dir as 1 | -1) : 1 }))}
                  >
                    {c.label}
                  </button>
                </th>
              ))}
            </tr>
          }
          row={(v) => {
            const state = venState(v, now);
            return (
              <tr key={v.venId} class={`row-${state}`}>
                <th scope="row">
                  <a href={hrefOf.ven(v.venId)}>{v.venId}</a>
                </th>
                <td>
                  <Badge tone={stateTone[state]}>{state}</Badge>
                </td>
                <td class="num">{kw(v.usedPowerKw)}</td>
                <td class="num">{kw(v.shedPowerKw)}</td>
                <td class="num">{pct(v.batterySOC)}</td>
                <td>{v.eventId ?? DASH}</td>
                <td>{ago(v.lastSeen, now)}</td>
              </tr>
            );
          }}
        />
      )}
    </section>
  );
}

function SitesSummary() {
  const { api } = useApp();
  const live = useLive();
  const agents = useAsync(() => api.all<Agent>('/api/agents'), []);
  useInterval(agents.reload, 30_000);
  const sites = useMemo(() => groupSites(agents.data ?? []), [agents.data]);
  return (
    <section aria-labelledby="sites-title">
      <h2 id="sites-title">
        <a href="/sites">Sites</a>
      </h2>
      {agents.error && (
        <ErrorNote
          error={`Sites could not be loaded: ${agents.error}`}
          action={<button onClick={agents.reload}>Retry</button>}
        />
      )}
      {agents.data && sites.length === 0 && <Empty>No site in the inventory. Load one with npm run inventory.</Empty>}
      <ul class="cards">
        {sites.map((s) => {
          const telemetry = live.gateways.get(s.gateway);
          return (
            <li class="card" key={s.site_id}>
              <div class="card-title">{s.site_name}</div>
              <div>
                Gateway {s.gateway}{' '}
                <Badge tone={s.connected ? 'ok' : 'muted'}>{s.connected ? 'connected' : 'disconnected'}</Badge>
              </div>
              <div>
                {s.assets.length} assets · {mw(telemetry?.mw)}
              </div>
              <div class="muted small">{s.assets.map((a) => a.asset_name).join(', ')}</div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function groupSites(agents: readonly Agent[]) {
  const sites = new Map<
    string,
    { site_id: string; site_name: string; gateway: string; connected: boolean; assets: Agent[] }
  >();
  for (const a of agents) {
    const site = sites.get(a.site_id) ?? {
      site_id: a.site_id,
      site_name: a.site_name,
      gateway: a.peer,
      connected: a.connected,
      assets: [],
    };
    site.assets.push(a);
    sites.set(a.site_id, site);
  }
  return [...sites.values()].sort((a, b) => a.site_id.localeCompare(b.site_id));
}

function NodesSummary({ live }: { live: LiveStore }) {
  const nodes = [...live.nodes.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  return (
    <section aria-labelledby="nodes-title">
      <h2 id="nodes-title">
        <a href="/winter-river">Winter River</a>
      </h2>
      {nodes.length === 0 && <Empty>{live.loaded ? 'No Winter River node has reported yet.' : 'Loading…'}</Empty>}
      <ul class="chips">
        {nodes.map((n) => (
          <li key={n.nodeId} class={`chip status-${n.status === 'ok' ? 'ok' : n.status ? 'bad' : 'unknown'}`}>
            {n.nodeId}: {n.status ?? 'unknown'}
          </li>
        ))}
      </ul>
    </section>
  );
}
