// Inventory, agents and dispatch (DER gateway) through the local stack: a test device plays the site gateway on the
// real SDK, ACKs with a split, and a gateway that never answers ends `timed-out`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { nowSec, post, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
let gateway: TestDevice;
/** The gateway ACKs every dispatch unless told to stay silent. */
let silent = false;

beforeAll(async () => {
  stack = await startApiStack({ commandTimeoutSec: 2, commandSweepMs: 100 });
  gateway = await connectDevice(await stack.provision('gw-a'), 'gw-a');
  await gateway.connection.subscribe(topics.command('gw-a'), 1, (topic, payload) => {
    const command = JSON.parse(new TextDecoder().decode(payload));
    gateway.received.push({ topic, payload: JSON.stringify(command) });
    if (silent || command.op !== 'dispatch') return;
    const split = command.site_id
      ? [
          { asset_id: 'a-bess-1', mw: 4 },
          { asset_id: 'a-bess-2', mw: command.mw - 4 },
        ]
      : [{ asset_id: command.asset_id, mw: command.mw }];
    const ack = {
      op: 'dispatch',
      status: 'accepted',
      dispatch_id: command.dispatch_id,
      ...(command.site_id ? { site_id: command.site_id } : { asset_id: command.asset_id }),
      requested_mw: command.mw,
      split,
      ts: nowSec(),
      correlationId: command.correlationId,
    };
    gateway.publish(topics.ack('gw-a'), JSON.stringify(ack)).catch(() => undefined);
  });
});

afterAll(async () => {
  await gateway?.close();
  await stack?.dispose();
});

const dispatchStatus = (id: string, status: string) =>
  eventually(async () => {
    const res = await stack.api(`/api/dispatch/${id}`);
    return res.body.status === status && res.body;
  }, 8000);

describe('GET /api/assets and /api/agents', () => {
  it('lists the loaded inventory, flat and nested assets alike', async () => {
    const res = await stack.api('/api/assets');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      {
        asset_id: 'a-bess-1',
        asset_name: 'A-BESS-1',
        asset_type: 'bess',
        site_id: 'site-a',
        site_name: 'Site A',
        gateway: 'gw-a',
        capacity_mw: 4,
        energy_mwh: 8,
        min_mw: -4,
        max_mw: 4,
        min_soc_pct: 0,
        max_soc_pct: 100,
      },
      {
        asset_id: 'a-bess-2',
        asset_name: 'A-BESS-2',
        asset_type: 'bess',
        site_id: 'site-a',
        site_name: 'Site A',
        gateway: 'gw-a',
        capacity_mw: 2,
        energy_mwh: 4,
        min_mw: -1,
        max_mw: 2,
        min_soc_pct: 0,
        max_soc_pct: 100,
      },
      {
        asset_id: 'b-bess-1',
        asset_name: 'b-bess-1',
        asset_type: 'bess',
        site_id: 'site-b',
        site_name: 'Site B',
        gateway: 'gw-silent',
        capacity_mw: 1,
        min_mw: -1,
        max_mw: 1,
        min_soc_pct: 0,
        max_soc_pct: 100,
      },
    ]);
    const firstPage = await stack.api('/api/assets?limit=2');
    expect(firstPage.body.items).toHaveLength(2);
    const secondPage = await stack.api(`/api/assets?limit=2&next=${firstPage.body.next}`);
    expect(secondPage.body.items.map((a: { asset_id: string }) => a.asset_id)).toEqual(['b-bess-1']);
    expect(await stack.api('/api/assets?limit=0')).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect((await stack.api('/api/assets', { token: null })).status).toBe(401);
  });

  it('shows one row per asset with its gateway as peer and whether it is connected', async () => {
    const agents = await eventually(async () => {
      const res = await stack.api('/api/agents');
      return (
        res.body.items.find((a: { peer: string; connected: boolean }) => a.peer === 'gw-a' && a.connected) &&
        res.body.items
      );
    });
    expect(agents).toEqual([
      expect.objectContaining({
        asset_id: 'a-bess-1',
        asset_name: 'A-BESS-1',
        site_id: 'site-a',
        site_name: 'Site A',
        peer: 'gw-a',
        connected: true,
      }),
      expect.objectContaining({
        asset_id: 'a-bess-2',
        peer: 'gw-a',
        connected: true,
        sessions: [expect.objectContaining({ peer: '127.0.0.1', connected_at: expect.any(String) })],
      }),
      {
        asset_id: 'b-bess-1',
        asset_name: 'b-bess-1',
        site_id: 'site-b',
        site_name: 'Site B',
        peer: 'gw-silent',
        connected: false,
        last_seen: null,
        sessions: [],
      },
    ]);
    expect((await stack.api('/api/agents', { token: null })).status).toBe(401);
  });
});

describe('POST /dispatch', () => {
  it('clamps a site setpoint to the sum of its assets, reaches the gateway, and shows the ACKed split', async () => {
    const res = await stack.api('/dispatch', post({ site_id: 'site-a', mw: 10 }));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'sent',
      mw_requested: 10,
      mw_sent: 6,
      site_id: 'site-a',
      gateway: 'gw-a',
    });
    const { dispatch_id: id, correlationId } = res.body;
    expect(correlationId).toBe(id);

    const command = await eventually(async () => gateway.received.find((m) => m.payload.includes(id)));
    expect(command.payload).toBe(
      JSON.stringify({ op: 'dispatch', dispatch_id: id, site_id: 'site-a', mw: 6, correlationId }),
    );

    const done = await dispatchStatus(id, 'acked');
    expect(done).toMatchObject({
      dispatch_id: id,
      site_id: 'site-a',
      gateway: 'gw-a',
      mw_requested: 10,
      mw_sent: 6,
      split: [
        { asset_id: 'a-bess-1', mw: 4 },
        { asset_id: 'a-bess-2', mw: 2 },
      ],
    });
    expect(done.latency_ms).toBeGreaterThanOrEqual(0);
    expect(done.completedAt).not.toBeNull();
    // the listing reads eventually consistently: the ACK's heartbeat shows within the lag
    await eventually(async () => (await stack.api('/api/agents')).body.items[0].last_seen !== null);
  });

  it('lets asset_id win over site_id and clamps to the asset limits (negative = charge)', async () => {
    const res = await stack.api('/dispatch', post({ asset_id: 'a-bess-2', site_id: 'site-b', mw: -3 }));
    expect(res.body).toMatchObject({
      status: 'sent',
      asset_id: 'a-bess-2',
      gateway: 'gw-a',
      mw_requested: -3,
      mw_sent: -1,
    });
    expect(res.body).not.toHaveProperty('site_id');
    const command = await eventually(async () =>
      gateway.received.find((m) => m.payload.includes(res.body.dispatch_id)),
    );
    expect(JSON.parse(command.payload)).toEqual({
      op: 'dispatch',
      dispatch_id: res.body.dispatch_id,
      asset_id: 'a-bess-2',
      mw: -1,
      correlationId: res.body.correlationId,
    });
    expect(await dispatchStatus(res.body.dispatch_id, 'acked')).toMatchObject({
      split: [{ asset_id: 'a-bess-2', mw: -1 }],
    });
  });

  it('ends timed-out when the gateway never answers, and a late ACK does not overwrite it', async () => {
    const res = await stack.api('/dispatch', post({ site_id: 'site-b', mw: 0.5 }));
    expect(res.body).toMatchObject({ status: 'sent', gateway: 'gw-silent', mw_sent: 0.5 });
    const { dispatch_id: id } = res.body;
    expect((await stack.api(`/api/dispatch/${id}`)).body.status).toBe('sent');
    const timedOut = await dispatchStatus(id, 'timed-out');
    expect(timedOut.split).toEqual([]);
    expect(timedOut.completedAt).not.toBeNull();
    // the gateway's ledger: the dispatch sent, then its time-out (appended by the sweep just after it marks the command)
    const ledger = await eventually(async () => {
      const items = (await stack.api('/api/transactions/gw-silent')).body.items.filter(
        (e: { ref: string }) => e.ref === timedOut.correlationId,
      );
      return items.length === 2 && items;
    });
    expect(ledger.map((e: { type: string; data: { status?: string } }) => [e.type, e.data.status])).toEqual([
      ['command-outcome', 'timed-out'],
      ['dispatch', undefined],
    ]);

    const late = await connectDevice(await stack.provision('gw-silent'), 'gw-silent');
    try {
      await late.publish(
        topics.ack('gw-silent'),
        JSON.stringify({
          op: 'dispatch',
          status: 'accepted',
          site_id: 'site-b',
          requested_mw: 0.5,
          split: [{ asset_id: 'b-bess-1', mw: 0.5 }],
          ts: nowSec(),
          correlationId: id,
        }),
      );
      await eventually(async () => {
        const agents = await stack.api('/api/agents');
        return agents.body.items.find(
          (a: { asset_id: string; last_seen: string | null }) => a.asset_id === 'b-bess-1' && a.last_seen,
        );
      });
      expect((await stack.api(`/api/dispatch/${id}`)).body).toMatchObject({ status: 'timed-out', split: [] });
    } finally {
      await late.close();
    }
  });

  it('keeps an ACK that lands before the sweep: acked is never turned into timed-out', async () => {
    const res = await stack.api('/dispatch', post({ asset_id: 'a-bess-1', mw: 1 }));
    await dispatchStatus(res.body.dispatch_id, 'acked');
    await new Promise((r) => setTimeout(r, 2500));
    expect((await stack.api(`/api/dispatch/${res.body.dispatch_id}`)).body.status).toBe('acked');
  });

  it('answers 400 naming the field for bad input, and sends nothing', async () => {
    silent = true;
    const before = gateway.received.length;
    const cases: [unknown, string][] = [
      [{ site_id: 'site-a' }, 'mw'],
      [{ site_id: 'site-a', mw: 'ten' }, 'mw'],
      [{ site_id: 'site-a', mw: 1e9 }, 'mw'],
      [{ mw: 1 }, 'asset_id'],
      [{ asset_id: '', mw: 1 }, 'asset_id'],
      ['[1,', 'body'],
    ];
    for (const [body, field] of cases) {
      expect(await stack.api('/dispatch', post(body)), JSON.stringify(body)).toMatchObject({
        status: 400,
        body: { field },
      });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(gateway.received).toHaveLength(before);
    silent = false;
  });

  it('answers 404 for an unknown asset or site, 401 without the token', async () => {
    expect((await stack.api('/dispatch', post({ asset_id: 'nope', mw: 1 }))).status).toBe(404);
    expect((await stack.api('/dispatch', post({ site_id: 'nope', mw: 1 }))).status).toBe(404);
    expect((await stack.api('/dispatch', post({ asset_id: 'nope', site_id: 'site-a', mw: 1 }))).status).toBe(404);
    expect((await stack.api('/dispatch', { ...post({ site_id: 'site-a', mw: 1 }), token: null })).status).toBe(401);
  });
});

describe('GET /api/dispatch/{id}', () => {
  it('answers 404 for an unknown id and for a command that is not a dispatch, 401 without the token', async () => {
    expect((await stack.api('/api/dispatch/unknown-id')).status).toBe(404);
    const metering = { venId: 'ven-d1', timestamp: nowSec(), usedPowerKw: 3 };
    expect((await stack.api('/api/telemetry', post(metering))).status).toBe(200);
    // the VEN is known once its registration reaches the eventually consistent reads (as in AWS)
    await eventually(async () => (await stack.api('/api/vens/ven-d1')).status === 200);
    const event = await stack.api('/api/vens/ven-d1/send-event', post({ shed_kw: 1, duration_sec: 60 }));
    expect(event.status).toBe(202);
    expect((await stack.api(`/api/commands/${event.body.correlationId}`)).status).toBe(200);
    expect((await stack.api(`/api/dispatch/${event.body.correlationId}`)).status).toBe(404);
    const dispatch = await stack.api('/dispatch', post({ site_id: 'site-a', mw: 0 }));
    expect((await stack.api(`/api/dispatch/${dispatch.body.dispatch_id}`, { token: null })).status).toBe(401);
    await dispatchStatus(dispatch.body.dispatch_id, 'acked');
  });
});
