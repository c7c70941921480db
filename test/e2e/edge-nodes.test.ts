// Data-centre edge nodes against the whole local stack: the edge software's telemetry published over mutual TLS by a
// plain MQTT client (mosquitto_pub), through rule `edge` into the time series and the registry, read back exactly
// through the API; a node that speaks for another refused; commands to a real edge agent acknowledged (and one to a
// silent node timed out), with their ledger entries; the HTTP fallback's three shapes storing the very same rows.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import mqtt from 'mqtt';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionResult } from '../../bin/local/stack.js';
import type { Fleet } from '../../device/fleet.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture, fixtureText } from '../fixture.js';
import { errorSink, eventually, startStackFleet, startTestStack, type TestStack } from './helpers.js';

const run = promisify(execFile);
let stack: TestStack;
let fleet: Fleet;
const AGENT = 'dc-edge-01';
const TIMEOUT_SEC = 2;

/** The fixture's sample time, and a window around it for range reads. */
const SENT = fixture('edge-telemetry');
const AROUND = `start=${Date.parse('2026-11-30T11:00:00Z') / 1000}&end=${Date.parse('2026-11-30T13:00:00Z') / 1000}`;
/** The fixture as node `dcId` would send it. */
const payloadOf = (dcId: string, extra: Record<string, unknown> = {}) => ({ ...SENT, dc_id: dcId, ...extra });

beforeAll(async () => {
  stack = await startTestStack({ commandTimeoutSec: TIMEOUT_SEC, commandSweepMs: 250 });
  fleet = await startStackFleet(stack, [{ mode: 'edge', thingName: AGENT }], {
    intervals: { edgeMs: 500 },
    reconnectMinSec: 1,
    reconnectMaxSec: 1,
  });
  expect(fleet.connected).toBe(1);
}, 30_000);

afterAll(async () => {
  await fleet?.stop();
  await stack?.dispose();
});

function mosquittoPub(device: ProvisionResult, topic: string, message: string, qos: 0 | 1) {
  return run(
    'mosquitto_pub',
    [
      '-h',
      device.endpoint,
      '-p',
      String(device.port),
      '--cafile',
      device.caFile,
      '--cert',
      device.certFile,
      '--key',
      device.keyFile,
      '-i',
      device.thingName,
      '-q',
      String(qos),
      '-t',
      topic,
      '-m',
      message,
    ],
    { timeout: 10_000 },
  );
}

/** A request with a role's token and any headers; the body as JSON. */
async function call(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    role?: 'viewer' | 'operator' | 'admin';
    headers?: Record<string, string>;
  } = {},
) {
  const res = await fetch(`${stack.config.apiUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${stack.config.tokens[init.role ?? 'viewer']}`,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body !== undefined && { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const telemetryOf = async (dcId: string) =>
  (await call(`/api/edge/${dcId}/telemetry?${AROUND}`)).body?.items as
    { time: string; source: string; payload: unknown }[] | undefined;

describe('edge telemetry over MQTT, wire-exact', () => {
  it("stores the edge software's payload published over mutual TLS (QoS 0) and serves it back exactly, the node registered from its meta", async () => {
    const node = await stack.provision('dc-fra-01');
    await mosquittoPub(node, topics.edgeTelemetry('dc-fra-01'), fixtureText('edge-telemetry'), 0);
    const items = await eventually(
      async () => (await telemetryOf('dc-fra-01'))?.length && (await telemetryOf('dc-fra-01')),
    );
    expect(items).toEqual([
      { time: '2026-11-30T12:00:05.123Z', source: 'mqtt', payload: JSON.parse(fixtureText('edge-telemetry')) },
    ]);

    const one = await call('/api/edge/dc-fra-01');
    expect(one).toMatchObject({
      status: 200,
      body: { dcId: 'dc-fra-01', capacity_kw: 180, battery_kwh: 215.4, latest: { source: 'mqtt', payload: SENT } },
    });
    // and as the node's latest sample, beside the other kinds'
    expect((await call('/api/telemetry/dc-fra-01/latest')).body).toMatchObject({
      nodeId: 'dc-fra-01',
      kind: 'edge',
      time: '2026-11-30T12:00:05.123Z',
      values: SENT,
    });
    const list = await call('/api/edge?limit=100');
    expect(list.body.items.map((n: { dcId: string }) => n.dcId)).toContain('dc-fra-01');
    // paginated like every listing
    const first = await call('/api/edge?limit=1');
    expect(first.body.items).toHaveLength(1);
    expect(first.body.next).toEqual(expect.any(String));
  });

  it("refuses a node that speaks for another: on another node's topic (the policy), or naming another dc_id on its own (the rule)", async () => {
    const node = await stack.provision('dc-fra-02');
    await mosquittoPub(node, topics.edgeTelemetry('dc-spoofed'), JSON.stringify(payloadOf('dc-spoofed')), 1).catch(
      () => undefined,
    );
    await mosquittoPub(node, topics.edgeTelemetry('dc-fra-02'), JSON.stringify(payloadOf('dc-spoofed')), 1);
    await stack.settle();
    const refusals = await eventually(async () => {
      const sink = (await errorSink(stack.config.errorsFile)).filter((r) => r.clientId === 'dc-fra-02');
      return sink.length >= 2 && sink;
    });
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'not-authorized', topic: 'edge/dc-spoofed/telemetry' }),
        expect.objectContaining({
          reason: 'identity-mismatch',
          topic: 'edge/dc-fra-02/telemetry',
          message: expect.stringMatching(/^dc_id: dc-spoofed/),
        }),
      ]),
    );
    expect((await call('/api/edge/dc-spoofed')).status).toBe(404);
    expect((await call('/api/edge/dc-fra-02')).status).toBe(404);
  });

  it("takes the node's status: online, then offline while still connected", async () => {
    const node = await stack.provision('dc-fra-01');
    const client = await mqtt.connectAsync(`mqtts://${node.endpoint}:${node.port}`, {
      clientId: node.thingName,
      ca: await readFile(node.caFile),
      cert: await readFile(node.certFile),
      key: await readFile(node.keyFile),
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    try {
      const status = (s: string) =>
        JSON.stringify({ dc_id: 'dc-fra-01', status: s, timestamp: new Date().toISOString() });
      await client.publishAsync(topics.edgeStatus('dc-fra-01'), status('online'), { qos: 1 });
      await client.publishAsync(
        topics.edgeTelemetry('dc-fra-01'),
        JSON.stringify(payloadOf('dc-fra-01', { timestamp: new Date().toISOString() })),
        { qos: 0 },
      );
      await eventually(async () => (await call('/api/edge/dc-fra-01')).body.online === true);
      // the node says it goes offline before its connection ends
      await client.publishAsync(topics.edgeStatus('dc-fra-01'), status('offline'), { qos: 1 });
      await eventually(async () => (await call('/api/edge/dc-fra-01')).body.online === false);
      expect(client.connected).toBe(true);
    } finally {
      await client.endAsync();
    }
  });
});

describe('commands to an edge node', () => {
  it('reaches the edge agent on its control topic and is acknowledged: acked in GET /api/commands/{id}, the battery charging', async () => {
    await eventually(async () => (await call(`/api/edge/${AGENT}`)).body?.online === true, 15_000);
    const sent = await call(`/api/edge/${AGENT}/commands`, {
      role: 'operator',
      body: { action: 'charge', params: { kw: 40 } },
      headers: { 'idempotency-key': 'edge-charge-1' },
    });
    expect(sent).toMatchObject({
      status: 202,
      body: {
        status: 'sent',
        dcId: AGENT,
        topic: `edge/${AGENT}/control`,
        command: { action: 'charge', params: { kw: 40 } },
      },
    });
    const id = sent.body.correlationId as string;
    const acked = await eventually(async () => {
      const c = await call(`/api/commands/${id}`);
      return c.body?.status === 'acked' && c.body;
    }, 10_000);
    expect(acked).toMatchObject({
      target: AGENT,
      topic: `edge/${AGENT}/control`,
      op: 'charge',
      ack: { correlationId: id, action: 'charge', status: 'accepted', charge_rate_kw: 40 },
    });
    // the node's next telemetry shows its battery charging
    await eventually(async () => {
      const latest = (await call(`/api/edge/${AGENT}`)).body.latest;
      return latest?.payload?.charge_rate_kw === 40;
    });
    // the agent's data quality: its samples counted against its reporting interval
    expect((await call(`/api/data-quality/${AGENT}`)).body).toMatchObject({
      nodeId: AGENT,
      kind: 'edge',
      received: expect.any(Number),
      online: true,
    });
    const fleetQuality = (await call('/api/data-quality?limit=1000')).body.items as { nodeId: string; kind: string }[];
    expect(fleetQuality.filter((i) => i.kind === 'edge').map((i) => i.nodeId)).toContain(AGENT);
    // a retry with the same key answers the first response, and sends nothing again
    const again = await call(`/api/edge/${AGENT}/commands`, {
      role: 'operator',
      body: { action: 'charge', params: { kw: 40 } },
      headers: { 'idempotency-key': 'edge-charge-1' },
    });
    expect(again.body.correlationId).toBe(id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // sent and its outcome, in the node's ledger
    const ledger = await call(`/api/transactions/${AGENT}`);
    const types = (ledger.body.items as { type: string; ref: string }[]).filter((e) => e.ref === id).map((e) => e.type);
    expect(types.sort()).toEqual(['command', 'command-outcome']);
  });

  it('times out a command a silent node never answers, in its ledger too', async () => {
    // dc-fra-01 is registered (the telemetry above) but nothing listens on its control topic
    const sent = await call('/api/edge/dc-fra-01/commands', { role: 'operator', body: { action: 'stop' } });
    expect(sent.status).toBe(202);
    const id = sent.body.correlationId as string;
    await eventually(
      async () => (await call(`/api/commands/${id}`)).body?.status === 'timed-out',
      (TIMEOUT_SEC + 5) * 1000,
    );
    // the sweep books the outcome right after it marks the command
    const outcome = await eventually(async () => {
      const ledger = await call('/api/transactions/dc-fra-01');
      return (ledger.body.items as { type: string; ref: string; data: { status?: string } }[]).find(
        (e) => e.ref === id && e.type === 'command-outcome',
      );
    });
    expect(outcome.data.status).toBe('timed-out');
  });

  it('refuses a bad command with a 400 naming the field, a viewer with a 403, an unknown node with a 404', async () => {
    const post = (dcId: string, body: unknown, role: 'viewer' | 'operator' = 'operator') =>
      call(`/api/edge/${dcId}/commands`, { role, body });
    expect(await post(AGENT, { action: 'charge', params: { kw: -5 } })).toMatchObject({
      status: 400,
      body: { field: 'params.kw' },
    });
    expect(await post(AGENT, { action: 'charge' })).toMatchObject({ status: 400, body: { field: 'params.kw' } });
    expect(await post(AGENT, { action: 'defer_load', params: {} })).toMatchObject({
      status: 400,
      body: { field: 'action' },
    });
    expect(await post(AGENT, { action: 'stop', dry: true })).toMatchObject({ status: 400, body: { field: 'dry' } });
    expect((await post(AGENT, { action: 'stop' }, 'viewer')).status).toBe(403);
    // a dry run says what would go where, and sends nothing
    expect(await post(AGENT, { action: 'set_power', params: { kw: -10 }, dry_run: true })).toMatchObject({
      status: 200,
      body: {
        dry_run: true,
        dcId: AGENT,
        online: true,
        topic: `edge/${AGENT}/control`,
        command: { action: 'set_power', params: { kw: -10 } },
      },
    });
    expect((await post('dc-nowhere', { action: 'stop' })).status).toBe(404);
  });
});

describe('the HTTP fallback', () => {
  const post = (path: string, body: unknown) => call(path, { role: 'admin', body });

  it('stores the same payload through POST /api/telemetry, /api/telemetry/{nodeId} and /api/telemetry/batch as over MQTT', async () => {
    expect(await post('/api/telemetry', payloadOf('dc-http-1'))).toMatchObject({
      status: 200,
      body: { accepted: 1, rejected: 0 },
    });
    const { dc_id: _id, ...withoutId } = SENT;
    expect(await post('/api/telemetry/dc-http-2', withoutId)).toMatchObject({ status: 200, body: { accepted: 1 } });
    expect(
      await post('/api/telemetry/batch', { items: [payloadOf('dc-http-3'), payloadOf('dc-http-4')] }),
    ).toMatchObject({ status: 200, body: { accepted: 2, rejected: 0 } });
    const mqtt = (await telemetryOf('dc-fra-01'))!.find((i) => i.time === '2026-11-30T12:00:05.123Z')!;
    // the listings are eventually consistent reads, as in AWS: each shows once its write has
    for (const dcId of ['dc-http-1', 'dc-http-2', 'dc-http-3', 'dc-http-4']) {
      const stored = await eventually(async () => {
        const items = await telemetryOf(dcId);
        return items?.length ? items : undefined;
      });
      expect(stored, dcId).toEqual([{ ...mqtt, source: 'http', payload: payloadOf(dcId) }]);
      const node = await eventually(async () => {
        const res = await call(`/api/edge/${dcId}`);
        return res.status === 200 && res.body;
      });
      expect(node, dcId).toMatchObject({ capacity_kw: 180, battery_kwh: 215.4, online: false });
    }
  });

  it('answers a bad field with a 400 naming it, in each of the three shapes, and stores nothing of a refused batch', async () => {
    expect(await post('/api/telemetry', payloadOf('dc-bad-1', { soc: 120 }))).toMatchObject({
      status: 400,
      body: { error: 'ValidationError', field: 'soc' },
    });
    expect(await post('/api/telemetry/dc-bad-2', { ...payloadOf('dc-bad-2'), freq: 'fifty' })).toMatchObject({
      status: 400,
      body: { field: 'freq' },
    });
    expect(await post('/api/telemetry/dc-bad-2', payloadOf('dc-other'))).toMatchObject({
      status: 400,
      body: { field: 'dc_id' },
    });
    const batch = await post('/api/telemetry/batch', {
      items: [payloadOf('dc-bad-3'), payloadOf('dc-bad-4', { meta: { capacity_kw: -1, battery_kwh: 100 } })],
    });
    expect(batch).toMatchObject({ status: 400, body: { field: 'items.1.meta.capacity_kw' } });
    expect(await post('/api/telemetry/batch', { items: [payloadOf('dc-bad-3'), 'soc'] })).toMatchObject({
      status: 400,
      body: { field: 'items.1' },
    });
    for (const dcId of ['dc-bad-1', 'dc-bad-2', 'dc-bad-3', 'dc-bad-4'])
      expect((await call(`/api/edge/${dcId}`)).status, dcId).toBe(404);
  });

  it('keeps the reading the node sent over MQTT: the same time again over HTTP is a 409 naming timestamp', async () => {
    expect(await post('/api/telemetry', payloadOf('dc-fra-01', { soc: 12 }))).toMatchObject({
      status: 409,
      body: { field: 'timestamp' },
    });
    expect((await telemetryOf('dc-fra-01'))!.find((i) => i.time === '2026-11-30T12:00:05.123Z')!.payload).toEqual(SENT);
  });
});
