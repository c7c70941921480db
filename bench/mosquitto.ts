// Mosquitto (Debian package `mosquitto`) as the benchmarks start it: mutual TLS with the local CA's certificates,
// the device policy as its ACL, and a bridge client that feeds the metering topic to the local stack's rules engine.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { LocalStack } from '../bin/local/stack.js';
import { devicePolicy } from '../lambdas/core/contracts/policy.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { freePort, procStats, sleep, type BenchContext } from './harness.js';

export const INSTALL_HINT = 'apt-get update && apt-get install -y mosquitto';

/** The mosquitto binary, or undefined when it is not installed (the benchmark never installs it). */
export function mosquittoBinary(): string | undefined {
  for (const candidate of ['mosquitto', '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    const r = spawnSync(candidate, ['-h'], { encoding: 'utf8' });
    if (!r.error && /mosquitto version/.test(`${r.stdout}${r.stderr}`)) return candidate;
  }
  return undefined;
}

export const BRIDGE_CLIENT = 'vpp-rules-bridge';

/** The shared device policy as a Mosquitto ACL (`%u` = certificate CN = thing name), plus the bridge's read. */
export function aclFromPolicy(): string {
  const pattern = (p: string) => p.replaceAll('{thing}', '%u').replace(/\*$/, '#');
  return [
    '# Generated from lambdas/core/contracts/policy.ts: what each device may publish (write) and subscribe to (read).',
    ...devicePolicy.publish.map((p) => `pattern write ${pattern(p)}`),
    ...devicePolicy.subscribe.map((p) => `pattern read ${pattern(p)}`),
    '',
    `user ${BRIDGE_CLIENT}`,
    `topic read ${topics.metering}`,
    '',
  ].join('\n');
}

export interface Mosquitto {
  readonly port: number;
  readonly pid: number;
  readonly version: string;
  stats(): { cpuSec: number; rssBytes: number };
  stop(): Promise<void>;
}

export async function startMosquitto(ctx: BenchContext, binary: string): Promise<Mosquitto> {
  const server = await ctx.ca.server();
  const port = await freePort();
  const acl = join(ctx.dir, 'mosquitto.acl');
  const conf = join(ctx.dir, 'mosquitto.conf');
  await writeFile(acl, aclFromPolicy());
  await writeFile(
    conf,
    [
      ...(process.getuid?.() === 0 ? [`user ${userInfo().username}`] : []),
      'per_listener_settings false',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'max_queued_messages 1000000',
      'max_inflight_messages 1000',
      `listener ${port} 127.0.0.1`,
      `cafile ${ctx.ca.caFile}`,
      `certfile ${server.certFile}`,
      `keyfile ${server.keyFile}`,
      'tls_version tlsv1.2',
      'require_certificate true',
      'use_identity_as_username true',
      `acl_file ${acl}`,
      '',
    ].join('\n'),
  );
  const version = /mosquitto version (\S+)/.exec(spawnSync(binary, ['-h'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  ctx.onCleanup(stop);
  await waitForTls(port, ctx);
  return { port, pid: child.pid!, version, stats: () => procStats(child.pid!), stop };
}

/** Until a TLS handshake with a device certificate succeeds on the port. */
async function waitForTls(port: number, ctx: BenchContext): Promise<void> {
  const [probe] = (await ctx.issue([BRIDGE_CLIENT])).values();
  const opts = {
    host: '127.0.0.1',
    port,
    ca: readFileSync(ctx.ca.caFile),
    cert: readFileSync(probe!.certFile),
    key: readFileSync(probe!.keyFile),
  };
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(opts, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`mosquitto did not accept TLS on ${port}`);
}

const VEN_ID = /^\{"venId":"([^"]+)"/;

/**
 * One MQTT client subscribed to the metering topic on Mosquitto, handing every message to the local stack's rules
 * engine. Mosquitto does not tell a subscriber who published, so the bridge vouches for the payload's venId (the
 * metering rule's identity check then holds by construction; Mosquitto's ACL has already bound topics to certificates).
 */
export async function startBridge(
  ctx: BenchContext,
  port: number,
  stack: LocalStack,
): Promise<{ client: MqttClient; stop(): Promise<void> }> {
  const cert = (await ctx.issue([BRIDGE_CLIENT])).get(BRIDGE_CLIENT)!;
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    protocol: 'mqtts',
    protocolVersion: 4,
    clientId: BRIDGE_CLIENT,
    clean: true,
    reconnectPeriod: 0,
    ca: readFileSync(ctx.ca.caFile),
    cert: readFileSync(cert.certFile),
    key: readFileSync(cert.keyFile),
  });
  client.on('message', (topic, payload) =>
    stack.deliverToRules(topic, payload, VEN_ID.exec(payload.toString('utf8', 0, 64))?.[1]),
  );
  const granted = await client.subscribeAsync(topics.metering, { qos: 1 });
  if (granted[0]?.qos !== 1) throw new Error(`mosquitto refused the bridge subscription: ${JSON.stringify(granted)}`);
  const stop = () => client.endAsync().catch(() => undefined);
  ctx.onCleanup(stop);
  return { client, stop };
}
