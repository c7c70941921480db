// The same wire format from a plain MQTT client: Debian's mosquitto_pub over mutual TLS.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixtureText } from '../fixture.js';
import { eventually, startTestStack } from './helpers.js';

const run = promisify(execFile);
let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.dispose());

function mosquittoPub(device: ProvisionResult, topic: string, message: string, clientId = device.thingName) {
  return run('mosquitto_pub', [
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
    clientId,
    '-q',
    '1',
    '-t',
    topic,
    '-m',
    message,
  ]);
}

describe('mosquitto_pub over mutual TLS', () => {
  it('publishes the example metering, event ACK and shadow update, read back through the API', async () => {
    const ven = await stack.provision('ven-001');
    await mosquittoPub(ven, topics.metering, fixtureText('volttron-metering'));
    await mosquittoPub(ven, topics.ack('ven-001'), fixtureText('volttron-event-ack'));
    await mosquittoPub(ven, topics.shadow('ven-001', 'update'), fixtureText('volttron-shadow-reported'));
    await stack.settle();

    const telemetry = await eventually(async () => {
      const res = await stack.api('/api/vens/ven-001/telemetry?start=1729690000&end=1729710000');
      return res.body.items?.length > 0 && res.body.items;
    });
    expect(telemetry[0]).toMatchObject({ usedPowerKw: 8.2, batterySOC: 85.5 });
    const events = await stack.api('/api/vens/ven-001/events?start=1729690000&end=1729710000');
    expect(events.body.items[0]).toMatchObject({ event_id: 'evt-123', correlationId: 'xyz-123' });
    const shadow = await eventually(async () => {
      const res = await stack.api('/api/vens/ven-001/shadow');
      return res.status === 200 && res.body;
    });
    expect(shadow.state.reported.circuits[0]).toMatchObject({ id: 'circuit_1', current_kw: 2.1 });
  });

  it('publishes the example Winter River status', async () => {
    const node = await stack.provision('pdu_a');
    await mosquittoPub(node, topics.winterRiverStatus('pdu_a'), fixtureText('winter-river-status'));
    const nodes = await eventually(async () => {
      const res = await stack.api('/api/winter-river/nodes');
      return res.body.items.length > 0 && res.body.items;
    });
    expect(nodes[0]).toMatchObject({ nodeId: 'pdu_a', status: 'ok', latest: { power_kw: 6 } });
  });

  it('is refused when the client id is not the certificate', async () => {
    const ven = await stack.provision('ven-001');
    await expect(mosquittoPub(ven, topics.metering, fixtureText('volttron-metering'), 'ven-002')).rejects.toThrow(
      /not authori[sz]ed/i,
    );
  });
});
