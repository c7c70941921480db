// Messages the platform refused (bad payload, a device speaking for another, a topic it may not use), newest first,
// so an operator sees a misbehaving device without reading logs.
import { Empty, ErrorNote, Pager } from '../components/ui.js';
import { useApp, useAsync, useInterval, usePages } from '../context.js';
import { DASH, time } from '../format.js';
import { useQueryParam } from '../router.js';

interface Refusal {
  at: string;
  reason: string;
  message: string;
  topic?: string;
  clientId?: string;
  payload?: string;
}

export function Refused() {
  const { api } = useApp();
  const [device, setDevice] = useQueryParam('device', '');
  const pages = usePages();
  const list = useAsync(
    () => api.get<{ items: Refusal[]; next?: string }>('/api/refused', { limit: 50, device, next: pages.next }),
    [device, pages.next],
  );
  useInterval(list.reload, 10_000, pages.first);
  const items = list.data?.items ?? [];
  return (
    <>
      <h1>Refused input</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setDevice(String(new FormData(e.currentTarget).get('device') ?? '').trim());
        }}
      >
        <label class="inline">
          Device
          <input type="search" name="device" defaultValue={device} placeholder="all devices" />
        </label>
        <button type="submit">Filter</button>
      </form>
      {list.error && (
        <ErrorNote
          error={`Refusals could not be loaded: ${list.error}`}
          action={<button onClick={list.reload}>Retry</button>}
        />
      )}
      {list.data && items.length === 0 && (
        <Empty>Nothing refused{device ? ` from ${device}` : ''} in the last 7 days.</Empty>
      )}
      {items.length > 0 && (
        <table class="grid">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Device</th>
              <th scope="col">Reason</th>
              <th scope="col">Topic</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r, i) => (
              <tr key={`${r.at}-${i}`}>
                <td>{time(r.at)}</td>
                <td>{r.clientId ?? DASH}</td>
                <td>{r.reason}</td>
                <td class="mono">{r.topic ?? DASH}</td>
                <td>
                  {r.message}
                  {r.payload && (
                    <details>
                      <summary>payload</summary>
                      <pre class="mono">{r.payload}</pre>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager first={pages.first} next={list.data?.next} onNewer={pages.newer} onOlder={pages.older} />
    </>
  );
}
