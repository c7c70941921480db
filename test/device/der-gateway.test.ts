// The gateway's dispatch ACK over the example's mixed site, with the runtime stubbed: the ACK it would publish.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayDevice } from '../../device/gateway-device.js';
import { memoryLog } from '../../device/log.js';
import type { DeviceRuntime } from '../../device/runtime.js';
import { parseInventory } from '../../device/site.js';
import { derDispatchAckSchema, derGatewayTelemetrySchema } from '../../lambdas/core/contracts/der-schemas.js';
import { ackSchema, parse } from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { at } from './der-helpers.js';

function gateway(nowMs: number) {
  const inventory = parseInventory(
    readFileSync(new URL('../../device/inventory.example.yaml', import.meta.url), 'utf8'),
  );
  if (!inventory.ok) throw new Error(inventory.message);
  const sent: { topic: string; body: Record<string, unknown> }[] = [];
  const runtime = {
    now: () => nowMs,
    on: () => undefined,
    log: memoryLog(),
    outbox: {
      sendDurable: (topic: string, payload: string) =>
        sent.push({ topic, body: JSON.parse(payload) as Record<string, unknown> }),
    },
  } as unknown as DeviceRuntime;
  const gw = new GatewayDevice({
    runtime,
    thingName: 'gw-site-mx',
    site: inventory.sites.find((s) => s.site_id === 'site-mx')!,
    telemetryMs: 5000,
  });
  const ack = (correlationId: string) =>
    sent.find((m) => m.topic === topics.ack('gw-site-mx') && m.body['correlationId'] === correlationId)!.body;
  return { gw, sent, ack };
}

describe('the gateway of a mixed site', () => {
  it('at midnight a site discharge goes to the battery and the wind; PV is unavailable, EV charging stops', () => {
    const { gw, ack } = gateway(at(0));
    gw.handleCommand(JSON.stringify({ op: 'dispatch', site_id: 'site-mx', mw: 10, correlationId: 'c1' }));
    const a = ack('c1');
    expect(parse(derDispatchAckSchema, a)).toMatchObject({ ok: true });
    expect(parse(ackSchema, a)).toMatchObject({ ok: true });
    const items = Object.fromEntries(
      (a['split'] as { asset_id: string; reasons: string[]; applied_mw: number }[]).map((i) => [i.asset_id, i]),
    );
    expect(items['mx-pv-1']).toMatchObject({ applied_mw: 0, reasons: ['ramp', 'unavailable'] }); // its cap ramps down from 4.5 MW
    expect(items['mx-ev-1']).toMatchObject({ applied_mw: 0, reasons: ['clamped:max_mw'] });
    expect(items['mx-bess-1']).toMatchObject({ applied_mw: 4, reasons: ['clamped:max_mw', 'ramp'] });
    expect(items['mx-wind-1']!.reasons).toContain('unavailable');
    expect(a['reason']).toMatch(/^limited by clamped:max_mw, unavailable: [\d.]+ of 10 MW applied$/);
  });

  it('publishes typed telemetry for every asset, and restore releases every setpoint', () => {
    const { gw, sent, ack } = gateway(at(12));
    gw.handleCommand(JSON.stringify({ op: 'dispatch', asset_id: 'mx-pv-1', mw: 1, correlationId: 'c2' }));
    expect(ack('c2')['split']).toEqual([
      { asset_id: 'mx-pv-1', mw: 1, requested_mw: 1, applied_mw: 1, reasons: ['ramp', 'curtailment'] },
    ]);
    gw.handleCommand(JSON.stringify({ op: 'restore', correlationId: 'c3' }));
    expect(gw.assets.map((m) => [m.asset.asset_id, m.setpointMw])).toEqual([
      ['mx-bess-1', 0],
      ['mx-ev-1', -1.2],
      ['mx-pv-1', 4.5],
      ['mx-wind-1', 3],
    ]);
    const doc = sent.filter((m) => m.topic === topics.derTelemetry('gw-site-mx')).at(-1)!.body;
    expect(parse(derGatewayTelemetrySchema, doc)).toMatchObject({ ok: true });
    expect((doc['assets'] as { asset_type: string }[]).map((x) => x.asset_type)).toEqual(['bess', 'ev', 'pv', 'wind']);
  });
});
