// `npm start` pins every port it binds (VPP_HTTP_PORT, VPP_MQTT_PORT, VPP_HTTPS_PORT), writes them to local.json, and a
// port already taken stops it with one line naming the port and its variable (exit 1, no stack trace).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../e2e/helpers.js';

let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-ports-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const listening = async (): Promise<Server> => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
};
const portOf = (s: Server) => (s.address() as { port: number }).port;
const freePort = async () => {
  const s = await listening();
  const port = portOf(s);
  await new Promise((r) => s.close(r));
  return port;
};

const start = (env: Record<string, string>) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/local.ts'],
      { env: { ...process.env, VPP_DIR: dir, VPP_FLEET: '0', ...env }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
    );
    children.push(child);
  });

describe('npm start and its ports', () => {
  it('pins the HTTPS publish port with VPP_HTTPS_PORT and writes it to local.json', async () => {
    const [http, mqtt, https] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      env: {
        ...process.env,
        VPP_DIR: dir,
        VPP_FLEET: '0',
        VPP_HTTP_PORT: String(http),
        VPP_MQTT_PORT: String(mqtt),
        VPP_HTTPS_PORT: String(https),
      },
      stdio: 'ignore',
    });
    children.push(child);
    const config = await eventually(
      () => existsSync(join(dir, 'local.json')) && JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8')),
      45_000,
    );
    expect(config.mqtt).toMatchObject({ port: mqtt, httpsPort: https });
    expect(config.apiUrl).toBe(`http://127.0.0.1:${http}`);
    child.kill('SIGTERM');
    await once(child, 'exit');
  }, 60_000);

  it.each(['VPP_HTTP_PORT', 'VPP_MQTT_PORT', 'VPP_HTTPS_PORT'])(
    'a port taken for %s: one line naming the port and the variable, exit 1',
    async (variable) => {
      const taken = await listening();
      try {
        const env = { VPP_HTTP_PORT: '0', VPP_MQTT_PORT: '0', VPP_HTTPS_PORT: '0', [variable]: String(portOf(taken)) };
        const { code, stderr } = await start(env);
        expect(code).toBe(1);
        expect(stderr.trim()).toBe(
          `error: port ${portOf(taken)} is in use (EADDRINUSE): set ${variable} to a free port (0 picks one)`,
        );
      } finally {
        taken.close();
      }
    },
    60_000,
  );
});
