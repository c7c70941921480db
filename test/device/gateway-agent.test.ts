// A gateway agent (gateway mode of `npm run agent`) against the project's broker over mutual TLS.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../device/agent.js';
import { loadConfig } from '../../device/config.js';
import type { GatewayDevice } from '../../device/gateway-device.js';
import { memoryLog } from '../../device/log.js';
import { gatewayTelemetrySchema, type GatewayTelemetry } from '../../lambdas/core/contracts/schemas.js';
import { ackSchema, dispatchAckSchema, parse } from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, json, on, startTestBroker, tempDir, type TestBroker } from './helpers.js';

const GW = 'gw-site-gt';
let dir: Awaited<ReturnType<typeof tempDir>>;
let broker: TestBroker;
let agent: Agent;
const log = memoryLog();

beforeAll(async () => {
  dir = await tempDir('vpp-gw-');
  broker = await startTestBroker(dir.path);
  const files = await broker.issue(GW);
  const config = loadConfig(
    [
      '--mode',
      'gateway',
      '--inventory',
      join(import.meta.dirname, '../../device/inventory.example.yaml'),
      '--web-port',
      'off',
      '--interval-sec',
      '0.2',
      '--data-dir',
      join(dir.path, 'data'),
    ],
    {
      IOT_ENDPOINT: broker.host,
      IOT_PORT: String(broker.port),
      CLIENT_ID: GW,
      CERT_FILE: files.certFile,
      KEY_FILE: files.keyFile,
      CA_FILE: broker.caFile,
    },
  );
  if (!config.ok) throw new Error(config.errors.join('; '));
  agent = await startAgent(config.config, { log });
});
afterAll(async () => {
  await agent?.stop();
  await broker?.close();
  await dir?.remove();
});

const acks = () => on(broker.published, topics.ack(GW)).map((p) => json(p));
const ackFor = (correlationId: string) => eventually(() => acks().find((a) => a['correlationId'] === correlationId));
const telemetry = () => on(broker.published, topics.derTelemetry(GW)).map((p) => json<GatewayTelemetry>(p));
const command = (body: object) => broker.publish(topics.command(GW), body);

describe('gateway agent', () => {
  it('publishes per-asset telemetry on its own der/telemetry topic', async () => {
    expect(agent.connected).toBe(true);
    const doc = await eventually(() => telemetry()[0]);
    expect(gatewayTelemetrySchema.safeParse(doc).success).toBe(true);
    expect(doc.assets.map((a) => a.asset_id)).toEqual(['gt-bess-a', 'gt-bess-b', 'gt-bess-c']);
    expect(doc.assets[0]).toMatchObject({
      site_id: 'site-gt',
      soc_pct: 60,
      mw: 0,
      mw_setpoint: 0,
      online: true,
      status: 'ok',
    });
  });

  it('splits a site setpoint, ACKs the split (dispatch ACK schema), and the assets follow it', async () => {
    await command({ op: 'dispatch', dispatch_id: 'd-1', site_id: 'site-gt', mw: 12, correlationId: 'c-site' });
    const ack = await ackFor('c-site');
    expect(parse(dispatchAckSchema, ack)).toMatchObject({ ok: true });
    expect(ack).toMatchObject({
      op: 'dispatch',
      status: 'accepted',
      dispatch_id: 'd-1',
      site_id: 'site-gt',
      requested_mw: 12,
      split: [
        { asset_id: 'gt-bess-a', mw: 6 },
        { asset_id: 'gt-bess-b', mw: 2 },
        { asset_id: 'gt-bess-c', mw: 1.5 },
      ],
      reason: 'clamped to asset limits: 9.5 of 12 MW allocated',
    });
    const following = await eventually(() => telemetry().find((t) => t.mw > 9));
    expect(following.mw_setpoint).toBe(9.5);
    const a = await eventually(() =>
      telemetry()
        .map((t) => t.assets[0]!)
        .find((x) => x.soc_pct < 60),
    );
    expect(a.asset_id).toBe('gt-bess-a');
  });

  it('an asset setpoint changes only that asset', async () => {
    await command({ op: 'dispatch', asset_id: 'gt-bess-a', site_id: 'site-gt', mw: -2, correlationId: 'c-asset' });
    expect(await ackFor('c-asset')).toMatchObject({
      status: 'accepted',
      asset_id: 'gt-bess-a',
      split: [{ asset_id: 'gt-bess-a', mw: -2 }],
    });
    const gw = agent.device as GatewayDevice;
    expect(gw.batteries.map((b) => b.setpointMw)).toEqual([-2, 2, 1.5]);
  });

  it('rejects what it does not serve and events meant for VENs; restore zeroes every setpoint; ping pongs', async () => {
    await command({ op: 'dispatch', site_id: 'site-x', mw: 1, correlationId: 'c-x' });
    await command({ op: 'dispatch', asset_id: 'other', mw: 1, correlationId: 'c-y' });
    await command({ op: 'event', event_id: 'e', shed_kw: 1, duration_sec: 5, correlationId: 'c-ev' });
    await command({ op: 'restore', correlationId: 'c-res' });
    await command({ op: 'ping', correlationId: 'c-ping' });
    expect(await ackFor('c-x')).toMatchObject({
      op: 'dispatch',
      status: 'rejected',
      split: [],
      reason: expect.stringMatching(/site-x/),
    });
    expect(await ackFor('c-y')).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/asset other/) });
    expect(await ackFor('c-ev')).toMatchObject({
      op: 'event',
      status: 'rejected',
      reason: expect.stringMatching(/VENs/),
    });
    expect(await ackFor('c-res')).toMatchObject({ op: 'restore', status: 'success' });
    expect(await ackFor('c-ping')).toMatchObject({ op: 'ping', status: 'pong' });
    expect((agent.device as GatewayDevice).batteries.map((b) => b.setpointMw)).toEqual([0, 0, 0]);
    expect(acks().every((a) => parse(ackSchema, a).ok)).toBe(true);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'dispatch rejected',
        fields: expect.objectContaining({ correlationId: 'c-x' }),
      }),
    );
  });
});
