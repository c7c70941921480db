// Killing and restarting `npm start` keeps all stored data (DynamoDB and shadows live on disk under VPP_DIR).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalConfig } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixtureText } from '../fixture.js';
import { apiClient, eventually } from './helpers.js';
import { connectDevice } from './sdk-client.js';

const dir = await mkdtemp(join(tmpdir(), 'vpp-restart-'));
let child: ChildProcess | undefined;

async function npmStart(): Promise<LocalConfig> {
  await rm(join(dir, 'local.json'), { force: true });
  // its own process group, so that kill -9 reaches the node process under npm and tsx
  child = spawn('npm', ['start'], {
    env: { ...process.env, VPP_DIR: dir, VPP_FLEET: '0', VPP_HTTP_PORT: '0', VPP_MQTT_PORT: '0' },
    stdio: 'ignore',
    detached: true,
  });
  await eventually(async () => existsSync(join(dir, 'local.json')), 30_000);
  return JSON.parse(await readFile(join(dir, 'local.json'), 'utf8')) as LocalConfig;
}

const killGroup = () => {
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
};

afterAll(async () => {
  killGroup();
  await rm(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('keeps telemetry, events, the registry and shadows across a kill -9', { timeout: 90_000 }, async () => {
    let config = await npmStart();
    const ven = { ...(await readProvisioned(config)), endpoint: config.mqtt.host, port: config.mqtt.port };
    const device = await connectDevice(ven, 'ven-001');
    await device.publish(topics.metering, fixtureText('volttron-metering'));
    await device.publish(topics.ack('ven-001'), fixtureText('volttron-event-ack'));
    await device.publish(topics.shadow('ven-001', 'update'), fixtureText('volttron-shadow-reported'));
    let api = apiClient(config.apiUrl, config.token);
    await eventually(
      async () => (await api('/api/vens/ven-001/events?start=1729690000&end=1729710000')).body.items.length === 1,
    );
    await eventually(async () => (await api('/api/vens/ven-001/shadow')).status === 200);
    await device.close();

    const exited = new Promise((r) => child!.once('exit', r));
    killGroup();
    await exited;

    config = await npmStart();
    api = apiClient(config.apiUrl, config.token);
    const window = 'start=1729690000&end=1729710000';
    expect((await api(`/api/vens/ven-001/telemetry?${window}`)).body.items).toHaveLength(1);
    expect((await api(`/api/vens/ven-001/circuits/history?${window}`)).body.items).toHaveLength(2);
    expect((await api(`/api/vens/ven-001/events?${window}`)).body.items[0]).toMatchObject({ event_id: 'evt-123' });
    expect((await api('/api/vens/ven-001')).body).toMatchObject({ venId: 'ven-001', latest: { usedPowerKw: 8.2 } });
    expect((await api('/api/vens/ven-001/shadow')).body).toMatchObject({
      version: 1,
      state: { reported: { power_kw: 8.2 } },
    });
  });
});

/** `npm run provision -- ven-001`, as a user would run it; its last stdout line is JSON. */
async function readProvisioned(config: LocalConfig) {
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('npm', ['run', '--silent', 'provision', '--', 'ven-001'], {
      env: { ...process.env, VPP_DIR: dir },
    });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`provision exited ${code}`))));
  });
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as {
    certFile: string;
    keyFile: string;
    caFile: string;
    endpoint: string;
    port: number;
  };
  expect(result).toMatchObject({
    thingName: 'ven-001',
    endpoint: config.mqtt.host,
    port: config.mqtt.port,
    caFile: config.mqtt.caFile,
  });
  return result;
}
