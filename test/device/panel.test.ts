import { describe, expect, it } from 'vitest';
import {
  ackSchema,
  eventAckSchema,
  loadsSnapshotSchema,
  meteringSchema,
  parse,
  restoreAckSchema,
  shadowReportedSchema,
  type EventCommand,
} from '../../lambdas/core/contracts/schemas.js';
import { PanelModel, defaultPanel, panelSpecSchema, type PanelSpec } from '../../device/panel.js';
import { planShed, type ShedCandidate } from '../../lambdas/core/contracts/shed-plan.js';
import { seededRng } from '../../device/random.js';
import { loadPanel } from '../../device/create-device.js';
import { fixture } from '../fixture.js';

const T0 = 1_729_700_000_000;

const candidate = (id: string, priority: number, powerKw: number, critical = false): ShedCandidate => ({
  id,
  name: id,
  priority,
  critical,
  powerKw,
});

const event = (shedKw: number, extra: Partial<EventCommand> = {}): EventCommand => ({
  op: 'event',
  event_id: 'evt-1',
  shed_kw: shedKw,
  duration_sec: 60,
  correlationId: 'corr-1',
  ...extra,
});

/** A panel whose circuits draw exactly `kw` each (duty 1 pins demand to capacity). */
function fixedPanel(circuits: { id: string; kw: number; priority: number; critical?: boolean }[]): PanelModel {
  const spec: PanelSpec = panelSpecSchema.parse({
    amperage: 200,
    voltage: 240,
    circuits: circuits.map((c) => ({
      id: c.id,
      name: `Circuit ${c.id}`,
      type: 'misc',
      breakerAmps: 20,
      capacityKw: c.kw,
      priority: c.priority,
      critical: c.critical ?? false,
      duty: 1,
    })),
  });
  const panel = new PanelModel(spec, () => 0.5);
  for (const c of panel.circuits) c.demandKw = c.spec.capacityKw;
  return panel;
}

describe('planShed', () => {
  it('sheds the highest priority number first until the request is met', () => {
    const plan = planShed(
      [candidate('a', 1, 3), candidate('b', 5, 2), candidate('c', 3, 2), candidate('d', 4, 1)],
      2.5,
    );
    expect(plan.circuits.map((c) => c.loadId)).toEqual(['b', 'd']);
    expect(plan.totalKw).toBe(3);
  });

  it('never sheds a critical circuit, even when the request cannot be met', () => {
    const plan = planShed([candidate('crit', 9, 10, true), candidate('x', 1, 1)], 5);
    expect(plan.circuits.map((c) => c.loadId)).toEqual(['x']);
    expect(plan.totalKw).toBe(1);
  });

  it('skips circuits drawing nothing and breaks ties by draw, then id', () => {
    const plan = planShed(
      [candidate('z', 2, 1), candidate('y', 2, 1), candidate('big', 2, 4), candidate('idle', 9, 0)],
      5.5,
    );
    expect(plan.circuits.map((c) => c.loadId)).toEqual(['big', 'y', 'z']);
  });

  it('sheds nothing when nothing is asked', () => {
    expect(planShed([candidate('a', 1, 2)], 0).circuits).toEqual([]);
  });
});

describe('PanelModel events', () => {
  it('accepts an event with an ACK in the example shape: circuits, requested and actual kW, correlationId', () => {
    const panel = fixedPanel([
      { id: 'hvac', kw: 3.5, priority: 2 },
      { id: 'pool', kw: 1.3, priority: 4 },
      { id: 'fridge', kw: 0.8, priority: 9, critical: true },
    ]);
    const ack = panel.startEvent(event(4.5, { event_id: 'evt-123', correlationId: 'xyz-123' }), T0);
    expect(parse(eventAckSchema, ack)).toMatchObject({ ok: true });
    expect(ack).toEqual({
      op: 'event',
      status: 'accepted',
      event_id: 'evt-123',
      requested_shed_kw: 4.5,
      actual_shed_kw: 4.8,
      circuits_curtailed: [
        { loadId: 'pool', name: 'Circuit pool', shedKw: 1.3 },
        { loadId: 'hvac', name: 'Circuit hvac', shedKw: 3.5 },
      ],
      ts: T0 / 1000,
      correlationId: 'xyz-123',
    });
    expect(Object.keys(ack).sort()).toEqual(Object.keys(fixture('volttron-event-ack')).sort());
    expect(panel.circuits.find((c) => c.spec.id === 'fridge')!.shed).toBe(false);
    expect(panel.usedKw()).toBeCloseTo(0.8);
    expect(panel.shedKw()).toBeCloseTo(4.8);
  });

  it('reports the event in metering: eventId, requestedReductionKw, shedPowerKw, baselinePowerKw', () => {
    const panel = fixedPanel([
      { id: 'a', kw: 2, priority: 5 },
      { id: 'b', kw: 3, priority: 1 },
    ]);
    panel.startEvent(event(1.5), T0);
    const m = panel.metering('ven-001', T0);
    expect(m).toMatchObject({
      eventId: 'evt-1',
      requestedReductionKw: 1.5,
      shedPowerKw: 2,
      usedPowerKw: 3,
      baselinePowerKw: 5,
    });
    expect(m.circuits.find((c) => c.id === 'a')).toMatchObject({ enabled: false, currentKw: 0 });
  });

  it('rejects, with a reason and nothing shed, when only critical or idle loads remain', () => {
    const panel = fixedPanel([
      { id: 'crit', kw: 5, priority: 9, critical: true },
      { id: 'idle', kw: 1, priority: 5 },
    ]);
    panel.circuits[1]!.demandKw = 0;
    const ack = panel.startEvent(event(2), T0);
    expect(ack).toMatchObject({ status: 'rejected', actual_shed_kw: 0, circuits_curtailed: [] });
    expect(ack.reason).toMatch(/non-critical/);
    expect(parse(ackSchema, ack)).toMatchObject({ ok: true });
    expect(panel.event).toBeNull();
  });

  it('accepts a partial shed and says so', () => {
    const panel = fixedPanel([{ id: 'a', kw: 1, priority: 5 }]);
    const ack = panel.startEvent(event(3), T0);
    expect(ack).toMatchObject({
      status: 'accepted',
      actual_shed_kw: 1,
      reason: 'only 1 kW of non-critical load available',
    });
  });

  it('a rejected event leaves an active one running', () => {
    const panel = fixedPanel([{ id: 'a', kw: 1, priority: 5 }]);
    panel.startEvent(event(1), T0);
    panel.circuits[0]!.demandKw = 0;
    expect(panel.startEvent(event(1, { event_id: 'evt-2', correlationId: 'c2' }), T0).status).toBe('rejected');
    expect(panel.event?.eventId).toBe('evt-1');
  });

  it('a new event replaces the active one', () => {
    const panel = fixedPanel([
      { id: 'a', kw: 1, priority: 5 },
      { id: 'b', kw: 4, priority: 1 },
    ]);
    panel.startEvent(event(1), T0);
    const ack = panel.startEvent(event(4.5, { event_id: 'evt-2', correlationId: 'c2' }), T0 + 1000);
    expect(ack.circuits_curtailed.map((c) => c.loadId)).toEqual(['a', 'b']);
    expect(panel.event).toMatchObject({ eventId: 'evt-2', endsAtMs: T0 + 1000 + 60_000 });
  });

  it('restore turns shed circuits back on and ACKs success with the event id', () => {
    const panel = fixedPanel([{ id: 'a', kw: 2, priority: 5 }]);
    panel.startEvent(event(1), T0);
    const ack = panel.restore('corr-9', T0 + 5000);
    expect(ack).toEqual({
      op: 'restore',
      status: 'success',
      event_id: 'evt-1',
      ts: T0 / 1000 + 5,
      correlationId: 'corr-9',
    });
    expect(parse(restoreAckSchema, ack)).toMatchObject({ ok: true });
    expect(panel.usedKw()).toBe(2);
    expect(panel.metering('ven-001', T0)).not.toHaveProperty('eventId');
    expect(panel.restore('corr-10', T0)).toEqual({
      op: 'restore',
      status: 'success',
      ts: T0 / 1000,
      correlationId: 'corr-10',
    });
  });

  it('restore keeps circuits the operator switched off', () => {
    const panel = fixedPanel([
      { id: 'a', kw: 2, priority: 5 },
      { id: 'b', kw: 2, priority: 4 },
    ]);
    panel.startEvent(event(3), T0);
    panel.setCircuitsEnabled({ a: false });
    panel.restore('c', T0);
    expect(panel.circuits.map((c) => panel.powerOf(c))).toEqual([0, 2]);
  });
});

describe('PanelModel payloads', () => {
  const panel = new PanelModel(defaultPanel, seededRng(7));
  panel.step();

  it('metering validates, has exactly the example field names, and adds up', () => {
    panel.startEvent(event(3), T0);
    const m = panel.metering('ven-001', T0);
    expect(parse(meteringSchema, m)).toMatchObject({ ok: true });
    const seed = fixture('volttron-metering') as Record<string, unknown>;
    expect(Object.keys(m).sort()).toEqual(Object.keys(seed).sort());
    const seedCircuit = (seed['circuits'] as Record<string, unknown>[])[0]!;
    const seedLoad = (seed['loads'] as Record<string, unknown>[])[0]!;
    expect(Object.keys(m.circuits[0]!).sort()).toEqual(Object.keys(seedCircuit).sort());
    expect(Object.keys(m.loads[0]!).sort()).toEqual(Object.keys(seedLoad).sort());
    expect(m.usedPowerKw).toBeCloseTo(
      m.circuits.reduce((s, c) => s + c.currentKw, 0),
      1,
    );
    expect(m.currentAmps).toBeCloseTo((m.usedPowerKw * 1000) / 240, 1);
    expect(m.panelMaxKw).toBe(48);
    expect(m.circuits.filter((c) => c.critical).every((c) => c.enabled)).toBe(true);
    panel.restore('r', T0);
  });

  it('the shadow report validates and keeps the example keys', () => {
    const doc = panel.shadowReported(T0, 5);
    expect(parse(shadowReportedSchema, doc)).toMatchObject({ ok: true });
    const seed = (fixture('volttron-shadow-reported') as { state: { reported: Record<string, unknown> } }).state
      .reported;
    expect(Object.keys(doc.state.reported)).toEqual(expect.arrayContaining(Object.keys(seed)));
    expect(doc.state.reported).toMatchObject({ active_event: null, reporting_interval_sec: 5, panel_max_kw: 48 });
    expect(doc.state.reported.circuit_enabled).toMatchObject({ circuit_1: true, circuit_2: true });
  });

  it('the loads snapshot validates', () => {
    expect(parse(loadsSnapshotSchema, panel.loadsSnapshot('ven-001', T0))).toMatchObject({ ok: true });
  });

  it('demand stays within each circuit capacity over many steps', () => {
    const p = new PanelModel(defaultPanel, seededRng(1));
    for (let i = 0; i < 500; i++) {
      p.step();
      for (const c of p.circuits) expect(c.demandKw).toBeLessThanOrEqual(c.spec.capacityKw);
    }
    expect(p.usedKw()).toBeGreaterThan(0);
  });
});

describe('operator circuit switches', () => {
  it('applies known circuits, refuses to switch a critical one off, reports unknown ids', () => {
    const panel = new PanelModel(defaultPanel, seededRng(3));
    const result = panel.setCircuitsEnabled({ circuit_4: false, circuit_2: false, nope: true });
    expect(result).toEqual({ applied: ['circuit_4'], unknown: ['nope'], refusedCritical: ['circuit_2'] });
    expect(panel.circuitEnabled()).toMatchObject({ circuit_4: false, circuit_2: true });
    const ack = panel.startEvent(event(100), T0);
    expect(ack.circuits_curtailed.map((c) => c.loadId)).not.toContain('circuit_4');
  });
});

describe('panel spec', () => {
  it('reads the example panel file', () => {
    const spec = loadPanel(new URL('../../device/panel.example.yaml', import.meta.url).pathname);
    expect(spec).toMatchObject({ amperage: 200, voltage: 240 });
    expect(spec.circuits.map((c) => [c.id, c.critical])).toContainEqual(['circuit_2', true]);
  });

  it('refuses duplicate circuit ids, naming the field', () => {
    const result = parse(panelSpecSchema, {
      ...defaultPanel,
      circuits: [defaultPanel.circuits[0], defaultPanel.circuits[0]],
    });
    expect(result).toMatchObject({ ok: false, field: 'circuits' });
  });
});
