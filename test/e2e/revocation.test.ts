// Revoking a device over the local stack with the real device SDK: the admin route or `npm run provision -- --revoke`
// marks its certificates REVOKED; the broker closes its open connection at once and refuses it from then on, while
// other devices carry on.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdOf } from '../../bin/local/cert-registry.js';
import { LocalCa } from '../../bin/local/certs.js';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/topics.js';
import { fixture } from '../fixture.js';
import { eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

const run = promisify(execFile);
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.dispose());

const reported = async (venId: string, timestamp: number) => {
  const device = { ...fixture('seed-001-metering'), venId, timestamp };
  return JSON.stringify(device);
};

async function revokedWhileConnected(thing: string, revoke: () => Promise<unknown>): Promise<ProvisionResult> {
  const files = await stack.provision(thing);
  const bystanderFiles = await stack.provision(`${thing}-b`);
  const device = await connectDevice(files, thing);
  const bystander = await connectDevice(bystanderFiles, `${thing}-b`);
  try {
    await device.publish(topics.metering, await reported(thing, 1729700000));
    await revoke();
    await eventually(() => device.interrupted(), 5_000);
    // the others carry on: a bystander's message after the revocation is stored
    await bystander.publish(topics.metering, await reported(`${thing}-b`, 1729700000));
    await eventually(async () => {
      await stack.settle();
      return (await stack.api(`/api/vens/${thing}-b`)).status === 200;
    });
    expect(bystander.interrupted()).toBe(false);
  } finally {
    await device.close();
    await bystander.close();
  }
  await expect(connectDevice(files, thing)).rejects.toThrow(/Failed to connect/);
  const certificateId = certificateIdOf(await readFile(files.certFile));
  expect(new LocalCa(stack.dir).registry.get(certificateId)).toMatchObject({ status: 'REVOKED', thingName: thing });
  return files;
}

describe('revoking a device', () => {
  it('POST /api/devices/{thingName}/revoke (admin) closes its open connection at once and refuses it from then on', async () => {
    await revokedWhileConnected('ven-901', async () => {
      const res = await stack.api('/api/devices/ven-901/revoke', { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ thingName: 'ven-901', status: 'revoked', certificateIds: [expect.stringMatching(/^[0-9a-f]{64}$/)] });
    });
  });

  it('npm run provision -- <thing> --revoke does the same from another process, the running broker dropping the connection', async () => {
    await revokedWhileConnected('ven-902', () => run('npx', ['tsx', 'bin/provision.ts', 'ven-902', '--revoke'], { env: { ...process.env, VPP_DIR: stack.dir } }));
  });

  it('answers 404 for a thing without a certificate and 400 naming thingName for a name that is no thing name', async () => {
    expect(await stack.api('/api/devices/ven-nobody/revoke', { method: 'POST' })).toMatchObject({ status: 404 });
    expect(await stack.api('/api/devices/ven%20x/revoke', { method: 'POST' })).toMatchObject({ status: 400, body: { field: 'thingName' } });
  });
});
