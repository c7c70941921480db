// `npm start`: the whole platform on this machine. Writes `.vpp/local.json` once ready.
import './local/env-defaults.js';
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { commandLine, fail, refuse } from './cli.js';

const USAGE = `usage: npm start   (the whole platform on this machine; stop it with Ctrl-C)
It takes no options; its settings are variables:
  VPP_DIR                  its state, certificates and local.json (default .vpp)
  VPP_HOST                 the address it listens on (default 127.0.0.1)
  VPP_HTTP_PORT            the HTTP API (default 3000; 0: a free port)
  VPP_MQTT_PORT            the MQTT broker, mutual TLS (default 8883; 0: a free port)
  VPP_FLEET=0              no simulated fleet
  VPP_INVENTORY            the inventory file to load (default: the example)
  VPP_COMMAND_TIMEOUT_SEC, VPP_COMMAND_SWEEP_MS, VPP_SETTLEMENT_GRACE_MS, VPP_ROLLUP_INTERVAL_MS   positive numbers
  VPP_RETENTION_DAYS, VPP_ARCHIVE_RETENTION_DAYS   whole days from 1 to 3650`;
const { positionals } = commandLine(USAGE, {});
if (positionals.length > 0) refuse(`unexpected argument ${positionals[0]}`);

const dir = resolve(process.env.VPP_DIR ?? '.vpp');
const numberEnv = (name: string, ok: (n: number) => boolean, what: string): number | undefined => {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  if (!ok(Number(value))) refuse(`${name} must be ${what}`);
  return Number(value);
};
const port = (name: string, fallback: number) =>
  numberEnv(name, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number') ?? fallback;
const positive = (name: string) => numberEnv(name, (n) => Number.isFinite(n) && n > 0, 'a positive number');
// as the Lambdas' config takes them (lambdas/core/config.ts): whole days, up to 10 years
const days = (name: string) => numberEnv(name, (n) => Number.isInteger(n) && n >= 1 && n <= 3650, 'a whole number of days from 1 to 3650');

const started = Date.now();
// loaded once the command line is read: --help and a bad option answer at once
const { startLocalStack } = await import('./local/stack.js');
const stack = await startLocalStack({
  dir,
  host: process.env.VPP_HOST ?? '127.0.0.1',
  httpPort: port('VPP_HTTP_PORT', 3000),
  mqttPort: port('VPP_MQTT_PORT', 8883),
  fleet: process.env.VPP_FLEET !== '0',
  inventoryFile: process.env.VPP_INVENTORY || undefined,
  commandTimeoutSec: positive('VPP_COMMAND_TIMEOUT_SEC'),
  commandSweepMs: positive('VPP_COMMAND_SWEEP_MS'),
  settlementGraceMs: positive('VPP_SETTLEMENT_GRACE_MS'),
  rollupIntervalMs: positive('VPP_ROLLUP_INTERVAL_MS'),
  retentionDays: days('VPP_RETENTION_DAYS'),
  archiveRetentionDays: days('VPP_ARCHIVE_RETENTION_DAYS'),
  log: (line) => console.log(line),
});
// written whole, then renamed: whoever waits for the file never reads half of it
await writeFile(join(dir, 'local.json.tmp'), `${JSON.stringify(stack.config, null, 2)}\n`, { mode: 0o600 });
await rename(join(dir, 'local.json.tmp'), join(dir, 'local.json'));
console.log(`VPP local stack ready in ${Date.now() - started} ms
  HTTP API           ${stack.config.apiUrl}   (Authorization: Bearer <token from ${join(dir, 'local.json')}>: admin; tokens.viewer, tokens.operator)
  MQTT (mutual TLS)  ${stack.config.mqtt.host}:${stack.config.mqtt.port}   CA ${stack.config.mqtt.caFile}
  MQTT over WS       ${stack.config.wsUrl}
  Device certs       npm run provision -- <thingName>`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stack.close().then(
      () => process.exit(0),
      (err: Error) => fail(err),
    );
  });
}
