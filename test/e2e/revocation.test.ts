// Rotating a certificate and revoking a device over the local stack with the real device SDK: the admin route or `npm run provision -- --revoke`
// marks its certificates REVOKED; the broker closes its open connection at once and refuses it from then on, while
// other devices carry on.
import { execFile } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdOf } from '../../bin/local/iot/cert-registry.js';
import { LocalCa } from '../../bin/local/iot/certs.js';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
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
  const device = { ...fixture('volttron-metering'), venId, timestamp };
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

describe('rotating a certificate', () => {
  it('a second certificate from a new CSR, the device switches, the old one deactivated: no message lost, the old one refused', async () => {
    const csr = (name: string) =>
      run('openssl', [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(stack.dir, `${name}.key`),
        '-out',
        join(stack.dir, `${name}.csr`),
        '-subj',
        '/CN=ven-950',
      ]);
    const provision = async (...args: string[]) => {
      const { stdout } = await run('npx', ['tsx', 'bin/provision.ts', ...args], {
        env: { ...process.env, VPP_DIR: stack.dir, VPP_MQTT_PORT: String(stack.config.mqtt.port) },
      });
      return JSON.parse(stdout.trim().split('\n').at(-1)!);
    };
    const target = { endpoint: stack.config.mqtt.host, port: stack.config.mqtt.port, caFile: stack.config.mqtt.caFile };
    await csr('old');
    const old = await provision('ven-950', '--csr', join(stack.dir, 'old.csr'));
    const oldCert = join(stack.dir, 'old-cert.pem'); // the device keeps its certificates apart: provision writes one file per thing
    await copyFile(old.certFile, oldCert);
    const before = await connectDevice(
      { ...target, certFile: oldCert, keyFile: join(stack.dir, 'old.key') },
      'ven-950',
    );
    await before.publish(topics.metering, await reported('ven-950', 1729700000));

    await csr('new');
    const renewed = await provision('ven-950', '--csr', join(stack.dir, 'new.csr'));
    expect(renewed.certificateId).not.toBe(old.certificateId);
    // the device switches: it sends with the old connection up to the moment it opens the new one
    await before.publish(topics.metering, await reported('ven-950', 1729700005));
    const after = await connectDevice(
      { ...target, certFile: renewed.certFile, keyFile: join(stack.dir, 'new.key') },
      'ven-950',
    );
    await before.close();
    await after.publish(topics.metering, await reported('ven-950', 1729700010));
    // (or npm run provision -- --deactivate <id>)
    expect(await stack.api(`/api/certificates/${old.certificateId}/deactivate`, { method: 'POST' })).toEqual({
      status: 200,
      body: { certificateId: old.certificateId, status: 'INACTIVE' },
    });
    await after.publish(topics.metering, await reported('ven-950', 1729700015));

    await eventually(async () => {
      await stack.settle();
      const stored = await stack.api('/api/vens/ven-950/telemetry?start=2024-10-23T00:00:00Z&end=2024-10-24T00:00:00Z');
      return stored.body?.items?.length === 4;
    });
    expect(after.interrupted()).toBe(false);
    await after.close();
    await expect(
      connectDevice({ ...target, certFile: oldCert, keyFile: join(stack.dir, 'old.key') }, 'ven-950'),
    ).rejects.toThrow(/Failed to connect/);
    expect(new LocalCa(stack.dir).registry.get(old.certificateId)).toMatchObject({
      status: 'INACTIVE',
      thingName: 'ven-950',
    });
  });
});

describe('revoking a device', () => {
  it('POST /api/devices/{thingName}/revoke (admin) closes its open connection at once and refuses it from then on', async () => {
    await revokedWhileConnected('ven-901', async () => {
      const res = await stack.api('/api/devices/ven-901/revoke', { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        thingName: 'ven-901',
        status: 'revoked',
        certificateIds: [expect.stringMatching(/^[0-9a-f]{64}$/)],
      });
    });
  });

  it('npm run provision -- <thing> --revoke does the same from another process, the running broker dropping the connection', async () => {
    await revokedWhileConnected('ven-902', () =>
      run('npx', ['tsx', 'bin/provision.ts', 'ven-902', '--revoke'], { env: { ...process.env, VPP_DIR: stack.dir } }),
    );
  });

  it('npm run provision -- --deactivate <id> deactivates one certificate; the route answers 404 for an unknown id and 400 naming certificateId for a malformed one', async () => {
    const files = await stack.provision('ven-960');
    const certificateId = certificateIdOf(await readFile(files.certFile));
    const { stdout } = await run('npx', ['tsx', 'bin/provision.ts', '--deactivate', certificateId], {
      env: { ...process.env, VPP_DIR: stack.dir },
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ certificateId, status: 'INACTIVE' });
    await expect(connectDevice(files, 'ven-960')).rejects.toThrow(/Failed to connect/);
    expect(await stack.api(`/api/certificates/${'0'.repeat(64)}/deactivate`, { method: 'POST' })).toMatchObject({
      status: 404,
    });
    expect(await stack.api('/api/certificates/abc/deactivate', { method: 'POST' })).toMatchObject({
      status: 400,
      body: { field: 'certificateId' },
    });
  });

  it('answers 404 for a thing without a certificate and 400 naming thingName for a name that is no thing name', async () => {
    expect(await stack.api('/api/devices/ven-nobody/revoke', { method: 'POST' })).toMatchObject({ status: 404 });
    expect(await stack.api('/api/devices/ven%20x/revoke', { method: 'POST' })).toMatchObject({
      status: 400,
      body: { field: 'thingName' },
    });
  });
});
