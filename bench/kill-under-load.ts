// kill -9 under load: a local stack (`bin/local.ts`) in a child process, one mqtt.js publisher sending QoS 1
// metering at a steady rate (each message its own timestamp) and noting which got their PUBACK, SIGKILL mid-stream,
// a restart on the same folder, then every acknowledged message is looked for through the API. Used by
// test/e2e/kill-under-load.test.ts and by bench/local-stack.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { LocalCa } from '../bin/local/iot/certs.js';
import type { LocalConfig } from '../bin/local/stack.js';
import { topics } from '../lambdas/core/contracts/topics.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface KillRun {
  /** Messages handed to the MQTT client before the kill. */
  readonly sent: number;
  /** Of those, acknowledged (PUBACK) before the kill. */
  readonly acked: number;
  /** Acknowledged, and found stored after the restart. */
  readonly ackedStored: number;
  /** Acknowledged and never stored: the durability guarantee says 0. */
  readonly lost: number;
  /** Sent, not acknowledged, stored anyway (harmless: the device would resend them). */
  readonly unackedStored: number;
  /** Restart until every acknowledged message was stored. */
  readonly recoveryMs: number;
}

export interface KillOptions {
  readonly dir: string;
  readonly rate: number;
  /** Kill this long after publishing started. */
  readonly killAfterMs: number;
  readonly venId?: string;
  readonly timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startStack(dir: string): Promise<{ child: ChildProcess; config: LocalConfig }> {
  await rm(join(dir, 'local.json'), { force: true });
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'local.ts')], {
    cwd: ROOT,
    env: { ...process.env, VPP_DIR: dir, VPP_FLEET: '0', VPP_HTTP_PORT: '0', VPP_MQTT_PORT: '0' },
    stdio: 'ignore',
  });
  const until = Date.now() + 60_000;
  while (!existsSync(join(dir, 'local.json'))) {
    if (child.exitCode !== null) throw new Error(`the local stack exited with ${child.exitCode}`);
    if (Date.now() > until) throw new Error('the local stack did not start within 60 s');
    await sleep(50);
  }
  return { child, config: JSON.parse(await readFile(join(dir, 'local.json'), 'utf8')) as LocalConfig };
}

const kill9 = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
};

/** Every metering timestamp (seconds) stored for the VEN in [from, to], through the API's pages. */
async function storedTimestamps(config: LocalConfig, venId: string, from: number, to: number): Promise<Set<number>> {
  const seen = new Set<number>();
  let next: string | undefined;
  do {
    const url = `${config.apiUrl}/api/vens/${venId}/telemetry?start=${from}&end=${to}&limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${config.token}` } });
    if (res.status !== 200) throw new Error(`GET telemetry: ${res.status}`);
    const body = (await res.json()) as { items: { timestamp: string }[]; next?: string };
    for (const item of body.items) seen.add(Date.parse(item.timestamp) / 1000);
    next = body.next;
  } while (next);
  return seen;
}

export async function killUnderLoad(opts: KillOptions): Promise<KillRun> {
  const venId = opts.venId ?? 'ven-kill9';
  const children: ChildProcess[] = [];
  try {
    const first = await startStack(opts.dir);
    children.push(first.child);
    const ca = new LocalCa(opts.dir);
    const cert = await ca.device(venId);
    const client = await mqtt.connectAsync({
      host: first.config.mqtt.host,
      port: first.config.mqtt.port,
      protocol: 'mqtts',
      protocolVersion: 4,
      clientId: venId,
      ca: await readFile(first.config.mqtt.caFile),
      cert: await readFile(cert.certFile),
      key: await readFile(cert.keyFile),
      reconnectPeriod: 0,
    });
    client.on('error', () => undefined);
    const payload = JSON.parse(
      await readFile(join(ROOT, 'test', 'fixtures', 'volttron-metering.json'), 'utf8'),
    ) as Record<string, unknown>;
    const t0 = Math.floor(Date.now() / 1000) - 3 * 86_400;
    const acked = new Set<number>();
    let sent = 0;
    let killed = false;
    const started = performance.now();
    const ticker = setInterval(() => {
      if (killed) return;
      const due = Math.floor(((performance.now() - started) / 1000) * opts.rate);
      while (sent < due) {
        const ts = t0 + sent++;
        client.publish(topics.metering, JSON.stringify({ ...payload, venId, timestamp: ts }), { qos: 1 }, (err) => {
          if (!err && !killed) acked.add(ts);
        });
      }
    }, 5);
    await sleep(opts.killAfterMs);
    // the acknowledgements received so far are the promise the stack made; then the kill
    const ackedAtKill = new Set(acked);
    killed = true;
    clearInterval(ticker);
    await kill9(first.child);
    client.end(true);

    const restarted = Date.now();
    const second = await startStack(opts.dir);
    children.push(second.child);
    let stored = new Set<number>();
    const until = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      stored = await storedTimestamps(second.config, venId, t0, t0 + sent);
      if ([...ackedAtKill].every((t) => stored.has(t)) || Date.now() > until) break;
      await sleep(200);
    }
    const recoveryMs = Date.now() - restarted;
    const ackedStored = [...ackedAtKill].filter((t) => stored.has(t)).length;
    return {
      sent,
      acked: ackedAtKill.size,
      ackedStored,
      lost: ackedAtKill.size - ackedStored,
      unackedStored: [...stored].filter((t) => !ackedAtKill.has(t)).length,
      recoveryMs,
    };
  } finally {
    for (const child of children) await kill9(child);
  }
}
