// Data quality: a device's completeness over the last 24 h, its gaps, late and out-of-order readings, refusals by
// reason and whether it went quiet; and the fleet's summary at /data-quality, quiet devices first.
import type { DataQuality, FleetQuality } from '../api/types.js';
import { Badge, Empty, Loaded, Pager, Tile } from '../components/ui.js';
import { useApp, useAsync, useLive, usePages } from '../context.js';
import { DASH, num, time } from '../format.js';
import { hrefOf } from '../router.js';

const pct = (v: number | null) => num(v, '%', 1);
const duration = (sec: number) =>
  sec < 90 ? `${sec} s` : sec < 5400 ? `${Math.round(sec / 60)} min` : `${num(sec / 3600, 'h', 1)}`;
const count = (v: number | readonly unknown[] | Record<string, number>) =>
  typeof v === 'number'
    ? v
    : Array.isArray(v)
      ? v.length
      : Object.values(v as Record<string, number>).reduce((a, b) => a + b, 0);
/** A device's page: its VEN page, or the node page for anything else. */
const deviceHref = (nodeId: string, kind: string) => (kind === 'ven' ? hrefOf.ven(nodeId) : hrefOf.node(nodeId));

function QuietBadge({ quiet, online }: { quiet: boolean; online?: boolean }) {
  if (quiet) return <Badge tone="warn">quiet</Badge>;
  return online === false ? <Badge tone="muted">offline</Badge> : <Badge tone="ok">reporting</Badge>;
}

/** One device's data quality, on its VEN or node page. */
export function QualityPanel({ nodeId }: { nodeId: string }) {
  const { api } = useApp();
  const quality = useAsync(() => api.get<DataQuality>(`/api/data-quality/${encodeURIComponent(nodeId)}`), [nodeId]);
  return (
    <section aria-labelledby="quality-title">
      <h2 id="quality-title">Data quality (24 h)</h2>
      <Loaded state={quality} notFound={`No data quality for ${nodeId}: it is not a known device`}>
        {(q) => <Quality q={q} />}
      </Loaded>
    </section>
  );
}

function Quality({ q }: { q: DataQuality }) {
  const refusals = Object.entries(q.refusals).sort((a, b) => b[1] - a[1]);
  return (
    <>
      <p>
        <QuietBadge quiet={q.quiet} online={q.online} /> {time(q.from)} → {time(q.to)} · last seen {time(q.last_seen)}
        {q.expected_interval_sec !== null && <> · expected every {duration(q.expected_interval_sec)}</>}
      </p>
      <div class="tiles" aria-label="Data quality figures" role="group">
        <Tile label="Completeness" value={pct(q.completeness_pct)} hint={`${q.received} of ${q.expected} readings`} />
        <Tile label="Gaps" value={String(q.gaps.length)} />
        <Tile label="Late" value={String(q.late)} />
        <Tile label="Out of order" value={String(q.out_of_order)} />
        <Tile label="Refused" value={String(count(q.refusals))} />
      </div>
      <div class="columns">
        {q.gaps.length === 0 ? (
          <Empty>No gap in this window.</Empty>
        ) : (
          <table class="grid" aria-label="Gaps">
            <thead>
              <tr>
                <th scope="col">Gap from</th>
                <th scope="col">To</th>
                <th scope="col">Length</th>
              </tr>
            </thead>
            <tbody>
              {q.gaps.map((g) => (
                <tr key={g.start}>
                  <th scope="row">{time(g.start)}</th>
                  <td>{time(g.end)}</td>
                  <td class="num">{duration(g.length_sec)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {refusals.length === 0 ? (
          <Empty>Nothing refused in this window.</Empty>
        ) : (
          <table class="grid" aria-label="Refusals by reason">
            <thead>
              <tr>
                <th scope="col">Refused because</th>
                <th scope="col">Messages</th>
              </tr>
            </thead>
            <tbody>
              {refusals.map(([reason, n]) => (
                <tr key={reason}>
                  <th scope="row">{reason}</th>
                  <td class="num">{n}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

/** `/data-quality`: every device, quiet ones first, each linking to its page. */
export function FleetQualityView() {
  const { api } = useApp();
  const live = useLive();
  const pages = usePages();
  const fleet = useAsync(() => api.get<FleetQuality>('/api/data-quality', { next: pages.next }), [pages.next]);
  return (
    <>
      <h1>Data quality</h1>
      <Loaded state={fleet} notFound="No data quality summary">
        {(f) => {
          const kinds = new Map(f.items.map((d) => [d.nodeId, d.kind]));
          const items = [...f.items].sort(
            (a, b) => Number(b.quiet) - Number(a.quiet) || (a.completeness_pct ?? 101) - (b.completeness_pct ?? 101),
          );
          return (
            <>
              <p class="muted">
                {time(f.from)} → {time(f.to)}
              </p>
              <div class="tiles" role="group" aria-label="Fleet data quality">
                <Tile label="Devices" value={String(f.devices)} />
                <Tile label="Completeness" value={pct(f.completeness_pct)} />
                <Tile label="Quiet" value={String(f.quiet.length)} hint="no reading for two reporting intervals" />
              </div>
              {f.quiet.length > 0 && (
                <nav aria-label="Quiet devices">
                  <h2>Quiet now</h2>
                  <ul class="chips">
                    {f.quiet.map((id) => (
                      <li key={id}>
                        <a class="chip" href={deviceHref(id, kinds.get(id) ?? (live.vens.has(id) ? 'ven' : ''))}>
                          {id}
                        </a>
                      </li>
                    ))}
                  </ul>
                </nav>
              )}
              {items.length === 0 ? (
                <Empty>No device has reported in this window.</Empty>
              ) : (
                <div class="scroller">
                  <table class="grid" aria-label="Data quality per device">
                    <thead>
                      <tr>
                        <th scope="col">Device</th>
                        <th scope="col">Kind</th>
                        <th scope="col">State</th>
                        <th scope="col">Completeness</th>
                        <th scope="col">Gaps</th>
                        <th scope="col">Late</th>
                        <th scope="col">Out of order</th>
                        <th scope="col">Refused</th>
                      </tr>
                    </thead>
                    <tbody>
                      {items.map((d) => (
                        <tr key={d.nodeId} class={d.quiet ? 'row-stale' : undefined}>
                          <th scope="row">
                            <a href={deviceHref(d.nodeId, d.kind)}>{d.nodeId}</a>
                          </th>
                          <td>{d.kind || DASH}</td>
                          <td>
                            <QuietBadge quiet={d.quiet} online={d.online} />
                          </td>
                          <td class="num">{pct(d.completeness_pct)}</td>
                          <td class="num">{count(d.gaps)}</td>
                          <td class="num">{d.late}</td>
                          <td class="num">{d.out_of_order}</td>
                          <td class="num">{count(d.refusals)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          );
        }}
      </Loaded>
      <Pager first={pages.first} next={fleet.data?.next} onNewer={pages.newer} onOlder={pages.older} />
    </>
  );
}
