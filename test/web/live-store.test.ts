// The dashboard's live store: a VEN's shadow document is its live reading (economy VENs meter through Basic Ingest,
// which the operator feed never sees).
import { describe, expect, it } from 'vitest';
import type { Api } from '../../web/src/api/client.js';
import { LiveStore, type Connect, type MqttWs } from '../../web/src/live/store.js';
import { venState } from '../../web/src/live/ven-state.js';

function storeWithFeed() {
  let deliver: (topic: string, payload: object) => void = () => {};
  const api = { all: async () => [], get: async () => ({}) } as unknown as Api;
  const connect: Connect = async ({ onMessage }) => {
    deliver = (topic, payload) => onMessage(topic, new TextEncoder().encode(JSON.stringify(payload)));
    return {
      subscribe: async (filters: readonly string[]) => filters.map(() => 1),
      close: () => {},
    } as unknown as MqttWs;
  };
  const store = new LiveStore(api, connect);
  store.start();
  return { store, deliver: (topic: string, payload: object) => deliver(topic, payload) };
}

const documents = (thing: string) => `$aws/things/${thing}/shadow/update/documents`;
const shadow = (reported: object, timestamp = 1_729_700_000) => ({ current: { state: { reported } }, timestamp });

describe('LiveStore', () => {
  it("takes a VEN's used and shed kW and active event from its shadow documents, newest wins", async () => {
    const { store, deliver } = storeWithFeed();
    await new Promise((r) => setTimeout(r, 0));
    deliver(
      documents('ven-9'),
      shadow({
        power_kw: 12.3,
        shed_kw: 1.5,
        circuits: [],
        active_event: { event_id: 'e1' },
        timestamp: 1_729_700_010,
      }),
    );
    expect(store.vens.get('ven-9')).toMatchObject({
      online: true,
      usedPowerKw: 12.3,
      shedPowerKw: 1.5,
      eventId: 'e1',
      lastSeen: 1_729_700_010_000,
    });
    deliver(
      documents('ven-9'),
      shadow({ power_kw: 3, shed_kw: 0, circuits: [], active_event: null, timestamp: 1_729_700_005 }),
    );
    expect(store.vens.get('ven-9')).toMatchObject({ usedPowerKw: 12.3, eventId: 'e1' });
    deliver(
      documents('ven-9'),
      shadow({ power_kw: 10, shed_kw: 0, circuits: [], active_event: null, timestamp: 1_729_700_020 }),
    );
    expect(store.vens.get('ven-9')).toMatchObject({ usedPowerKw: 10, shedPowerKw: 0, eventId: null });
    store.stop();
  });

  it('a shadow without power and circuits is no VEN reading', async () => {
    const { store, deliver } = storeWithFeed();
    await new Promise((r) => setTimeout(r, 0));
    deliver(documents('gw-1'), shadow({ mode: 'gateway' }));
    expect(store.vens.has('gw-1')).toBe(false);
    expect(store.shadows.has('gw-1')).toBe(true);
    store.stop();
  });
});

describe('a VEN is stale past two of its own reporting intervals', () => {
  it('follows the interval the API learnt (a minute for the economy profile), else two 5-s intervals', async () => {
    const now = 1_729_700_100_000;
    const row = { venId: 'v', online: true, lastSeen: now - 30_000 };
    expect(venState(row, now)).toBe('stale');
    expect(venState({ ...row, reportIntervalMs: 60_000 }, now)).toBe('online');
    expect(venState({ ...row, reportIntervalMs: 60_000, lastSeen: now - 126_000 }, now)).toBe('stale');
    expect(venState({ ...row, online: false, reportIntervalMs: 60_000 }, now)).toBe('offline');
  });
});
