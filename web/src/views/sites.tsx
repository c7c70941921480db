// DER sites (DER gateway): assets per site with limits, connection and live output, and the dispatch console; and one
// site's page with its load forecast and rollups (loaded on first use).
import { useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { useSend } from '../components/use-send.js';
import type { Asset, Dispatch, GatewayTelemetry, Site } from '../api/types.js';
import { useCommand } from '../components/command-tracker.js';
import { lazy } from '../components/lazy.js';
import { Badge, CommandStatus, Confirm, Empty, ErrorNote, Field, Loaded, RequiresRole } from '../components/ui.js';
import { useApp, useAsync, useInterval, useLive } from '../context.js';
import { ago, DASH, mw, num, pct } from '../format.js';
import { hrefOf } from '../router.js';

const LoadForecast = lazy(() => import('./forecast.js').then((m) => m.LoadForecast));
const NodeRollups = lazy(() => import('./analytics.js').then((m) => m.NodeRollups));

interface Preview {
  mw_requested: number;
  mw_sent: number;
  clamped: boolean;
  gateway: string;
}

export function Sites() {
  const { api } = useApp();
  const assets = useAsync(() => api.all<Asset>('/api/assets'), []);
  const sites = useMemo(() => {
    const bySite = new Map<string, Asset[]>();
    for (const a of assets.data ?? []) bySite.set(a.site_id, [...(bySite.get(a.site_id) ?? []), a]);
    return [...bySite.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [assets.data]);

  return (
    <>
      <h1>Sites and assets</h1>
      {assets.error && (
        <ErrorNote
          error={`The inventory could not be loaded: ${assets.error}`}
          action={<button onClick={assets.reload}>Retry</button>}
        />
      )}
      {assets.data && sites.length === 0 && (
        <Empty>The inventory is empty. Load it with npm run inventory -- inventory.yaml.</Empty>
      )}
      {assets.data && sites.length > 0 && (
        <section aria-labelledby="dispatch-title">
          <h2 id="dispatch-title">Dispatch</h2>
          <RequiresRole role="operator" what="dispatching a site or an asset">
            <DispatchConsole assets={assets.data} />
          </RequiresRole>
        </section>
      )}
      {sites.map(([siteId, siteAssets]) => (
        <SiteSection key={siteId} siteId={siteId} assets={siteAssets} />
      ))}
    </>
  );
}

/** One site: its assets' summed load for the next 24 h, and its rollups with its peers among the sites. */
export function SiteDetail({ siteId }: { siteId: string }) {
  const { api } = useApp();
  const site = useAsync(() => api.get<Site>(`/api/sites/${encodeURIComponent(siteId)}`), [siteId]);
  return (
    <>
      <h1>Site {site.data?.site_name ?? siteId}</h1>
      <p>
        <a href="/sites">All sites, their assets and dispatch</a>
      </p>
      <Loaded state={site} notFound={`No site ${siteId}: it is not in the inventory`}>
        {(s) => (
          <>
            <p class="muted">
              Site {siteId} · gateway {s.gateway} · {s.assets.length} {s.assets.length === 1 ? 'asset' : 'assets'}
            </p>
            <LoadForecast kind="site" id={siteId} />
            <NodeRollups nodeId={siteId} />
          </>
        )}
      </Loaded>
    </>
  );
}

type Reading = GatewayTelemetry['assets'][number];

/** A REST reading (`GET /api/sites/{id}`: core fields, type fields under `details`) in the live feed's shape. */
const fromRest = (asset: Asset, latest: Record<string, unknown> | null | undefined): Reading | undefined =>
  latest
    ? ({ asset_id: asset.asset_id, asset_type: asset.asset_type, ...latest, ...(latest.details as object) } as Reading)
    : undefined;

/**
 * One site: its row from GET /api/sites/{siteId} (connection, totals, each asset's latest reading), re-read every
 * 10 s, with the live feed's site document over it when one has come in since.
 */
function SiteSection({ siteId, assets }: { siteId: string; assets: Asset[] }) {
  const { api } = useApp();
  const live = useLive();
  const site = useAsync(() => api.get<Site>(`/api/sites/${encodeURIComponent(siteId)}`), [siteId]);
  useInterval(site.reload, 10_000);
  const gateway = assets[0]!.gateway;
  const telemetry = live.gateways.get(gateway);
  const rest = new Map((site.data?.assets ?? []).map((a) => [a.asset_id, a.latest]));
  const connection = site.data?.connection;
  return (
    <section aria-labelledby={`site-${siteId}`}>
      <h2 id={`site-${siteId}`}>{assets[0]!.site_name}</h2>
      <p>
        Site {siteId} · gateway {gateway} · <a href={hrefOf.site(siteId)}>forecast and rollups</a> ·{' '}
        <Badge tone={connection?.connected ? 'ok' : 'muted'}>
          {connection?.connected ? 'connected' : 'disconnected'}
        </Badge>{' '}
        · last seen {ago(connection?.last_seen ? Date.parse(connection.last_seen) : undefined)} · output{' '}
        {mw(telemetry?.mw ?? site.data?.totals.mw)}
      </p>
      {site.error && <ErrorNote error={`The site could not be loaded: ${site.error}`} />}
      <table class="grid">
        <thead>
          <tr>
            <th scope="col">Asset</th>
            <th scope="col">Type</th>
            <th scope="col">Capacity</th>
            <th scope="col">Limits</th>
            <th scope="col">Output</th>
            <th scope="col">Setpoint</th>
            <th scope="col">State of charge</th>
            <th scope="col">Details</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {assets.map((a) => {
            const t = telemetry?.assets.find((x) => x.asset_id === a.asset_id) ?? fromRest(a, rest.get(a.asset_id));
            return (
              <tr key={a.asset_id}>
                <th scope="row">
                  {a.asset_name}{' '}
                  <a class="small" href={hrefOf.node(a.asset_id)} title="Its analytics, data quality and ledger">
                    {a.asset_id}
                  </a>
                </th>
                <td>{a.asset_type}</td>
                <td class="num">
                  {mw(a.capacity_mw)}
                  {a.energy_mwh !== undefined && <> / {num(a.energy_mwh, 'MWh')}</>}
                </td>
                <td class="num">
                  {mw(a.min_mw)} … {mw(a.max_mw)}
                </td>
                <td class="num">{mw(t?.mw)}</td>
                <td class="num">{mw(t?.mw_setpoint)}</td>
                <td class="num">{pct(t?.asset_type === 'bess' ? t.soc_pct : undefined)}</td>
                <td>{t ? assetDetails(t) : DASH}</td>
                <td>{t ? <Badge tone={t.online ? 'ok' : 'bad'}>{t.status}</Badge> : DASH}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function DispatchConsole({ assets }: { assets: readonly Asset[] }) {
  const { api } = useApp();
  const sites = [...new Map(assets.map((a) => [a.site_id, a.site_name])).entries()];
  const [target, setTarget] = useState(`site:${sites[0]?.[0] ?? ''}`);
  const [setpoint, setSetpoint] = useState('5');
  const [preview, setPreview] = useState<Preview>();
  const [confirm, setConfirm] = useState(false);
  const [sent, setSent] = useState<string[]>([]);
  const [error, setError] = useState<{ field?: string | undefined; message: string }>();
  const { busy, send: post } = useSend();
  const [kind, id] = target.split(':') as ['site' | 'asset', string];
  const body = () => ({ [kind === 'site' ? 'site_id' : 'asset_id']: id, mw: Number(setpoint) });
  const fail = (err: unknown) =>
    setError({ field: err instanceof ApiError ? err.field : undefined, message: (err as Error).message });

  return (
    <>
      <form
        class="form-row"
        onInput={() => setPreview(undefined)}
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            setPreview(await api.post<Preview>('/dispatch', { ...body(), dry_run: true }));
          } catch (err) {
            fail(err);
          }
        }}
      >
        <Field label="Target">
          <select name="target" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <optgroup label="Sites">
              {sites.map(([siteId, name]) => (
                <option value={`site:${siteId}`}>{name} (site)</option>
              ))}
            </optgroup>
            <optgroup label="Assets">
              {assets.map((a) => (
                <option value={`asset:${a.asset_id}`}>{a.asset_name}</option>
              ))}
            </optgroup>
          </select>
        </Field>
        <Field
          label="Setpoint (MW)"
          hint="+ discharge / export, − charge / import"
          error={error?.field === 'mw' ? error.message : undefined}
        >
          <input
            type="number"
            name="mw"
            step="0.1"
            required
            value={setpoint}
            onInput={(e) => setSetpoint(e.currentTarget.value)}
          />
        </Field>
        <button type="submit">Preview</button>
      </form>
      {error && error.field !== 'mw' && <ErrorNote error={error.message} />}
      {preview && (
        <div class="plan" aria-label="Dispatch preview">
          <p>
            {mw(preview.mw_requested)} requested → <strong>{mw(preview.mw_sent)}</strong> sent to gateway{' '}
            {preview.gateway}
            {preview.clamped && (
              <>
                {' '}
                <Badge tone="warn">clamped to the limits</Badge>
              </>
            )}
          </p>
          <button type="button" class="primary" onClick={() => setConfirm(true)} disabled={busy}>
            {busy ? 'Sending…' : 'Dispatch…'}
          </button>
        </div>
      )}
      {confirm && preview && (
        <Confirm
          title="Send this dispatch?"
          confirm="Dispatch"
          onCancel={() => setConfirm(false)}
          onConfirm={async () => {
            setConfirm(false);
            try {
              setError(undefined);
              const res = await post<{ dispatch_id: string }>('/dispatch', body());
              if (!res) return;
              setSent((s) => [res.dispatch_id, ...s].slice(0, 5));
              setPreview(undefined);
            } catch (err) {
              fail(err);
            }
          }}
        >
          <p>
            {id} will be set to {mw(preview.mw_sent)}.
          </p>
        </Confirm>
      )}
      {sent.map((d) => (
        <DispatchStatus key={d} id={d} />
      ))}
    </>
  );
}

function DispatchStatus({ id }: { id: string }) {
  const dispatch = useCommand<Dispatch>(`/api/dispatch/${encodeURIComponent(id)}`, id);
  const d = dispatch.data;
  return (
    <div class="tracker" aria-live="polite" data-status={d?.status ?? 'loading'}>
      <p>
        Dispatch {d ? `${'site_id' in d ? d.site_id : d.asset_id} ${mw(d.mw_sent)}` : id}:{' '}
        {d ? <CommandStatus status={d.status} /> : 'sending…'}
        {d?.latency_ms != null && <span class="muted"> in {num(d.latency_ms, 'ms', 0)}</span>}
        {d?.reason && <span> · {d.reason}</span>}
      </p>
      {d && d.split.length > 0 && (
        <table class="grid compact">
          <caption>Split reported by the gateway</caption>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col">Setpoint</th>
              <th scope="col">Requested</th>
              <th scope="col">Applied</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {d.split.map((s) => (
              <tr key={s.asset_id}>
                <th scope="row">{s.asset_id}</th>
                <td class="num">{mw(s.mw)}</td>
                <td class="num">{mw(s.requested_mw ?? undefined)}</td>
                <td class="num">{mw(s.applied_mw ?? undefined)}</td>
                <td>{s.reasons.length > 0 ? s.reasons.join(', ') : DASH}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dispatch.error && <ErrorNote error={dispatch.error} />}
    </div>
  );
}

/** An asset's type-specific fields from its reading: SOC for BESS, irradiance and curtailment for PV, wind, sessions. */
function assetDetails(t: GatewayTelemetry['assets'][number]): string {
  switch (t.asset_type) {
    case 'bess':
      return t.soc_mwh !== undefined ? `${num(t.soc_mwh, 'MWh')} stored` : DASH;
    case 'pv':
      return `${num(t.irradiance_wm2, 'W/m²', 0)}${t.curtailment_reason ? ` · curtailed (${t.curtailment_reason})` : ''}`;
    case 'wind':
      return `wind ${num(t.wind_speed_ms, 'm/s', 1)}${t.turbine_state ? ` · ${t.turbine_state}` : ''}`;
    case 'ev':
      return `${t.active_sessions ?? 0} session${t.active_sessions === 1 ? '' : 's'}${t.station_state ? ` · ${t.station_state}` : ''}`;
    default:
      return DASH;
  }
}
