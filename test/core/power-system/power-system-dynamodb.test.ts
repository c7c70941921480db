// The Winter River controller's state on a real local DynamoDB (dynalite): concurrent batches each land (the version
// condition makes the loser re-read), a redelivered batch changes nothing and sends nothing twice, and commands
// whose publish failed go out with the next evaluation. The publisher is the only fake: its publishes are asserted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { applyStatuses, type PowerSystem } from '../../../lambdas/core/power-system/controller.js';
import { DynamoPowerSystemStore } from '../../../lambdas/core/power-system/store-dynamodb.js';
import { parseTopology } from '../../../lambdas/core/power-system/topology-file.js';
import { type Topology } from '../../../lambdas/core/contracts/topology.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';

let dir: string;
let dynamo: LocalDynamo;
let table = 0;
const T = Date.UTC(2026, 0, 1);
const parsed = parseTopology(
  readFileSync(join(import.meta.dirname, '../../../device/winter-river.topology.yaml'), 'utf8'),
);
if (!parsed.ok) throw new Error(parsed.message);
const topology: Topology = parsed.topology;

const sent: { topic: string; payload: unknown }[] = [];
let failPublish = false;
let system: PowerSystem;

const status = (node_id: string, at: number, s = 'ok', power_kw?: number) => ({
  node_id,
  status: s,
  at,
  ...(power_kw !== undefined && { power_kw }),
});
const everyNodeOk = (at: number) =>
  topology.nodes.map((n) => status(n.id, at, 'ok', n.kind === 'server' ? 1 : undefined));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-power-'));
  dynamo = await startDynamo(join(dir, 'db'));
});
afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  // a fresh table per test
  const name = `power-${table++}`;
  await ensureTables(dynamo.client, { [name]: tables.powerSystem });
  sent.length = 0;
  failPublish = false;
  system = {
    topology,
    store: new DynamoPowerSystemStore(documentClient(dynamo.client), name),
    publisher: {
      async publish(topic, payload, qos) {
        if (failPublish) throw new Error('data plane down');
        expect(qos).toBe(1);
        sent.push({ topic, payload: JSON.parse(payload) });
      },
    },
  };
});

describe('the power system on DynamoDB', () => {
  it('stores the state, the recent events newest first, and publishes the commands on the nodes’ command topics', async () => {
    await applyStatuses(system, everyNodeOk(T));
    expect(sent).toEqual([]);
    const outcome = await applyStatuses(system, [status('util_a', T + 1000, 'fault')]);
    expect(outcome.commands.length).toBeGreaterThan(0);
    expect(sent).toEqual(
      expect.arrayContaining([
        { topic: 'winter-river/gen_a/command', payload: { command: 'start_generator' } },
        { topic: 'winter-river/trf_a/command', payload: { command: 'set_energized', params: { state: false } } },
        { topic: 'winter-river/ups_a/command', payload: { command: 'set_source', params: { source: 'ups' } } },
      ]),
    );
    const record = (await system.store.get())!;
    expect(record.state.nodes['srv_a']).toMatchObject({ energized: true, source: 'ups' });
    expect(record.unsent).toEqual([]);
    expect(record.events.map((e) => `${e.type} ${e.node_id}`)).toEqual(
      expect.arrayContaining(['power_lost trf_a', 'ups_on_battery ups_a']),
    );

    // time advances with the next status of any node: the generator is online after its 10 s start delay
    await applyStatuses(system, [status('pdu_a', T + 12_000)]);
    const later = (await system.store.get())!;
    expect(later.state.nodes['srv_a']).toMatchObject({ source: 'generator' });
    expect(later.events[0]!.at).toBeGreaterThanOrEqual(later.events.at(-1)!.at);
    expect(later.events.slice(0, 2).map((e) => e.type)).toContain('generator_online');
  });

  it('a redelivered batch changes nothing and sends nothing twice', async () => {
    await applyStatuses(system, everyNodeOk(T));
    const batch = [status('util_a', T + 1000, 'fault')];
    await applyStatuses(system, batch);
    const before = await system.store.get();
    const published = sent.length;
    expect(await applyStatuses(system, batch)).toEqual({ events: [], commands: [] });
    // an older status of a node counts no more than a duplicate
    await applyStatuses(system, [status('util_a', T + 500, 'ok')]);
    expect(sent).toHaveLength(published);
    expect(await system.store.get()).toEqual(before);
  });

  it('concurrent batches of different nodes all land: the version condition makes the later writer re-read', async () => {
    await applyStatuses(system, everyNodeOk(T));
    const ids = topology.nodes.map((n) => n.id);
    await Promise.all(
      ids.map((id, i) => applyStatuses(system, [status(id, T + 1000 + i, 'ok', id === 'srv_a' ? 2 : undefined)])),
    );
    const record = (await system.store.get())!;
    expect(Object.fromEntries(ids.map((id) => [id, record.reports[id]!.at]))).toEqual(
      Object.fromEntries(ids.map((id, i) => [id, T + 1000 + i])),
    );
    expect(record.version).toBe(1 + ids.length);
    expect(record.state.nodes['srv_a']!.flow_kw).toBe(2);
  });

  it('commands whose publish failed are stored and go out with the next evaluation', async () => {
    await applyStatuses(system, everyNodeOk(T));
    failPublish = true;
    await expect(applyStatuses(system, [status('trf_a', T + 1000, 'fault')])).rejects.toThrow('data plane down');
    expect((await system.store.get())!.unsent.length).toBeGreaterThan(0);
    failPublish = false;
    // the retried batch is a duplicate: nothing new to evaluate, but the stored commands go out
    await applyStatuses(system, [status('trf_a', T + 1000, 'fault')]);
    expect(sent).toEqual(
      expect.arrayContaining([
        { topic: 'winter-river/trf_a/command', payload: { command: 'set_energized', params: { state: false } } },
      ]),
    );
    expect((await system.store.get())!.unsent).toEqual([]);
  });
});
