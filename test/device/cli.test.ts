// bin/agent.ts as a process: configuration errors, a clean shutdown on SIGTERM/SIGINT, the buffer kept on disk.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, on, startTestBroker, tempDir, type TestBroker } from './helpers.js';

const root = join(import.meta.dirname, '../..');
let dir: Awaited<ReturnType<typeof tempDir>>;
let broker: TestBroker;

beforeAll(async () => {
  dir = await tempDir('vpp-cli-');
  broker = await startTestBroker(dir.path);
});
afterAll(async () => {
  await broker.close();
  await dir.remove();
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function agent(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/agent.ts', ...args], {
    cwd: root,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function venEnv(thing: string): Promise<NodeJS.ProcessEnv> {
  const files = await broker.issue(thing);
  return {
    IOT_ENDPOINT: broker.host,
    IOT_PORT: String(broker.port),
    CLIENT_ID: thing,
    CERT_FILE: files.certFile,
    KEY_FILE: files.keyFile,
    CA_FILE: broker.caFile,
    DATA_DIR: join(dir.path, 'data', thing),
    INTERVAL_SEC: '0.2',
    RECONNECT_MAX_SEC: '1',
  };
}

describe('npm run agent', () => {
  it('exits 2 and names the field on a bad configuration', async () => {
    const run = agent(['--mode', 'ven', '--client-id', 'ven/1', '--endpoint', 'localhost']);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/CLIENT_ID \(--client-id\): must be the thing name/);
    expect(run.stderr()).toMatch(/CERT_FILE \(--cert\)/);
    expect(run.stderr()).toMatch(/Usage: npm run agent/);
  });

  it('prints its usage with --help', async () => {
    const run = agent(['--help']);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toMatch(/--inventory\s+ASSETS_PATH/);
  });

  it('exits 2 when the gateway inventory is invalid, naming the field', async () => {
    const env = await venEnv('gw-cli');
    const run = agent(
      ['--mode', 'gateway', '--inventory', join(root, 'device', 'panel.example.yaml'), '--web-port', 'off'],
      env,
    );
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/panel\.example\.yaml sites: /);
  });

  it('runs a VEN with its status page, and on SIGTERM flushes and disconnects, exiting 0', async () => {
    const port = await freePort();
    const run = agent(['--mode', 'ven', '--web-port', String(port)], await venEnv('ven-cli-1'));
    try {
      // the default (economy) profile: the first sample goes at once, through Basic Ingest
      await eventually(
        () => on(broker.published, topics.meteringBasicIngest).some((p) => p.clientId === 'ven-cli-1'),
        20_000,
      );
      const status = (await (await fetch(`http://127.0.0.1:${port}/status.json`)).json()) as {
        devices: { connection: { state: string } }[];
      };
      expect(status.devices[0]!.connection.state).toBe('online');
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
      expect(run.stdout()).toMatch(/"message":"shutting down".*"signal":"SIGTERM"/);
      expect(run.stdout()).toMatch(/"message":"stopped".*"bufferDepth":0/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('on SIGINT while the broker is down, keeps the unsent messages on disk for the next start', async () => {
    const env: NodeJS.ProcessEnv = { ...(await venEnv('ven-cli-2')), AGENT_PROFILE: 'volttron' }; // one message per sample: three in a second
    const run = agent(['--mode', 'ven', '--web-port', 'off'], env);
    try {
      await eventually(() => on(broker.published, topics.metering).some((p) => p.clientId === 'ven-cli-2'), 20_000);
      await broker.stop();
      await new Promise((r) => setTimeout(r, 1000));
      run.child.kill('SIGINT');
      expect(await run.exit).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      await broker.start();
    }
    const logs = readdirSync(env['DATA_DIR']!).filter((f) => f.endsWith('.log'));
    expect(logs).toHaveLength(1);
    const lines = readFileSync(join(env['DATA_DIR']!, logs[0]!), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ t: topics.metering, q: 1 });
    expect(existsSync(join(env['DATA_DIR']!, 'cursor.json'))).toBe(true);
    expect(run.stdout()).toMatch(/"message":"stopped".*"bufferDepth":[1-9]/);
  });
});
