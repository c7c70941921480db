// `npm start` as a newcomer runs it: defaults (simulated fleet on) on free ports, local.json, /health, the fleet
// reporting, a clean stop on SIGTERM; its variables followed; a bad setting refused by name.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, eventually } from '../e2e/helpers.js';
import { fixture } from '../fixture.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'vpp-start-'));
  dirs.push(dir);
  return dir;
}

describe('npm start', () => {
  it('starts the whole platform with its fleet, writes local.json, answers /health, and stops cleanly', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      // one process: a kill reaches the stack itself
      env: { ...process.env, VPP_DIR: dir, VPP_HTTP_PORT: '0', VPP_MQTT_PORT: '0', VPP_FLEET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    const config = await eventually(
      () => existsSync(join(dir, 'local.json')) && JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8')),
      45_000,
    );
    await eventually(() => /VPP local stack ready in \d+ ms/.test(output));
    expect((await fetch(`${config.apiUrl}/health`)).status).toBe(200);
    const vens = await eventually(async () => {
      const res = await fetch(`${config.apiUrl}/api/vens?online=true`, {
        headers: { authorization: `Bearer ${config.token}` },
      });
      const body = (await res.json()) as { items: { venId: string }[] };
      return body.items.length === 3 && body.items.map((v) => v.venId).sort();
    }, 20_000);
    expect(vens).toEqual(['ven-001', 'ven-002', 'ven-003']);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 90_000);

  it('follows its variables: VPP_FLEET=0, VPP_INVENTORY, VPP_COMMAND_TIMEOUT_SEC, VPP_COMMAND_SWEEP_MS and VPP_ROLLUP_INTERVAL_MS', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      // one process: a kill reaches the stack itself
      env: {
        ...process.env,
        VPP_DIR: dir,
        VPP_HTTP_PORT: '0',
        VPP_MQTT_PORT: '0',
        VPP_FLEET: '0',
        VPP_INVENTORY: 'test/api/fixtures/inventory.yaml',
        VPP_COMMAND_TIMEOUT_SEC: '1',
        VPP_COMMAND_SWEEP_MS: '100',
        VPP_ROLLUP_INTERVAL_MS: '200',
      },
      stdio: 'ignore',
    });
    children.push(child);
    const config = await eventually(
      () => existsSync(join(dir, 'local.json')) && JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8')),
      45_000,
    );
    const api = apiClient(config.apiUrl, config.token);
    // the test inventory's site, not the example's; and no fleet
    // the inventory is loaded at start; a site's read is eventually consistent, so it may show a lag after local.json
    const site = await eventually(async () => {
      const res = await api('/api/sites/site-a');
      return res.status === 200 && res;
    });
    expect(site).toMatchObject({ status: 200, body: { site_id: 'site-a' } });
    expect((await api('/api/sites/site-gt')).status).toBe(404);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await api('/api/vens')).body.items).toEqual([]);
    // a command nobody answers is timed-out after 1 s, found by a sweep every 100 ms
    const reading = { ...fixture('volttron-metering'), venId: 'ven-009', timestamp: Math.floor(Date.now() / 1000) };
    expect((await api('/api/telemetry', { method: 'POST', body: JSON.stringify(reading) })).status).toBeLessThan(300);
    // the reading registers ven-009; the registration shows a lag later (an eventually consistent read, as in AWS)
    await eventually(async () => (await api('/api/vens/ven-009')).status === 200);
    const sent = await api('/api/vens/ven-009/restore', { method: 'POST' });
    expect(sent.status).toBe(202);
    const started = Date.now();
    await eventually(
      async () => (await api(`/api/commands/${sent.body.correlationId}`)).body.status === 'timed-out',
      5000,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    // a reading an hour old lands in a closed bucket: the next rollup pass, 200 ms away, rolls it up
    const hourAgo = reading.timestamp - 3600;
    expect(
      (await api('/api/telemetry', { method: 'POST', body: JSON.stringify({ ...reading, timestamp: hourAgo }) }))
        .status,
    ).toBeLessThan(300);
    const bucket = Math.floor(hourAgo / 900) * 900;
    const rows = await eventually(async () => {
      const res = await api(`/api/telemetry/ven-009/historical?interval=15m&from=${bucket}&to=${bucket + 900}`);
      return res.body.items?.length === 1 && res.body.items;
    }, 5000);
    const usedPowerKw = (reading as unknown as { usedPowerKw: number }).usedPowerKw;
    expect(rows[0]).toMatchObject({ start: new Date(bucket * 1000).toISOString(), samples: 1, mean_kw: usedPowerKw });
    child.kill('SIGTERM');
    await once(child, 'exit');
  }, 90_000);

  it.each([
    ['VPP_HTTP_PORT', 'abc', 'VPP_HTTP_PORT must be a port number'],
    ['VPP_RETENTION_DAYS', '1.5', 'VPP_RETENTION_DAYS must be a whole number of days from 1 to 3650'],
  ])(
    'refuses a bad setting, naming it (%s=%s)',
    async (name, value, message) => {
      const run = promisify(execFile);
      const result = await run('npx', ['tsx', 'bin/local.ts'], {
        env: { ...process.env, VPP_DIR: await tempDir(), [name]: value },
      }).catch((e) => e);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(message);
    },
    30_000,
  );
});
