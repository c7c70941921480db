// `npm start`: the whole platform on this machine. Writes `.vpp/local.json` once ready.
import { DEFAULT_PORTS } from './local/env-defaults.js';
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { commandLine, fail, refuse } from './cli.js';
import { canonicalTimeZone } from '../lambdas/core/contracts/programs.js';

const USAGE = `usage: npm start   (the whole platform on this machine; stop it with Ctrl-C)
It takes no options; its settings are variables:
  VPP_DIR                  its state, certificates and local.json (default .vpp)
  VPP_HOST                 the address it listens on (default 127.0.0.1)
  VPP_HTTP_PORT            the HTTP API (default 3000; 0: a free port)
  VPP_MQTT_PORT            the MQTT broker, mutual TLS (default 8883; 0: a free port)
  VPP_HTTPS_PORT           HTTPS publish for devices (default 8443; a free port when VPP_MQTT_PORT is 0)
  VPP_S3_PORT              the local S3 endpoint for event reports (default 3001; a free port when VPP_HTTP_PORT is 0)
  VPP_DYNAMODB_LAG_MS      how long an eventually consistent read lags a write (default 300)
  VPP_AWS_FAULTS=1         AWS's fault mode: throttling, unprocessed batch items, failed stream records
  VPP_FLEET=0              no simulated fleet
  VPP_INVENTORY            the inventory file to load (default: the example)
  VPP_COMMAND_TIMEOUT_SEC, VPP_COMMAND_SWEEP_MS, VPP_SETTLEMENT_GRACE_MS, VPP_ROLLUP_INTERVAL_MS   positive numbers
  VPP_RETENTION_DAYS, VPP_ARCHIVE_RETENTION_DAYS   whole days from 1 to 3650
  VPP_PORTFOLIO_TIME_ZONE  the IANA time zone of the daily and monthly rollups (default UTC)`;
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
// as the Lambdas' config takes them (lambdas/core/common/config.ts): whole days, up to 10 years
const days = (name: string) =>
  numberEnv(name, (n) => Number.isInteger(n) && n >= 1 && n <= 3650, 'a whole number of days from 1 to 3650');
const timeZone = (name: string) => {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  return canonicalTimeZone(value) ?? refuse(`${name} must be an IANA time zone such as America/Los_Angeles or UTC`);
};

const started = Date.now();
const ports = {
  VPP_HTTP_PORT: port('VPP_HTTP_PORT', DEFAULT_PORTS.VPP_HTTP_PORT),
  VPP_MQTT_PORT: port('VPP_MQTT_PORT', DEFAULT_PORTS.VPP_MQTT_PORT),
};
const httpsPort = port('VPP_HTTPS_PORT', ports.VPP_MQTT_PORT === 0 ? 0 : DEFAULT_PORTS.VPP_HTTPS_PORT);
const s3Port = process.env.VPP_S3_PORT ? port('VPP_S3_PORT', 3001) : undefined;
// loaded once the command line is read: --help and a bad option answer at once
const { startLocalStack } = await import('./local/stack.js');
const stack = await startLocalStack({
  dir,
  host: process.env.VPP_HOST ?? '127.0.0.1',
  httpPort: ports.VPP_HTTP_PORT,
  mqttPort: ports.VPP_MQTT_PORT,
  httpsPublishPort: httpsPort,
  // unset: 3001, or a free port when VPP_HTTP_PORT is 0 (the stack's default)
  s3Port: s3Port,
  fleet: process.env.VPP_FLEET !== '0',
  inventoryFile: process.env.VPP_INVENTORY || undefined,
  commandTimeoutSec: positive('VPP_COMMAND_TIMEOUT_SEC'),
  commandSweepMs: positive('VPP_COMMAND_SWEEP_MS'),
  settlementGraceMs: positive('VPP_SETTLEMENT_GRACE_MS'),
  rollupIntervalMs: positive('VPP_ROLLUP_INTERVAL_MS'),
  retentionDays: days('VPP_RETENTION_DAYS'),
  archiveRetentionDays: days('VPP_ARCHIVE_RETENTION_DAYS'),
  portfolioTimeZone: timeZone('VPP_PORTFOLIO_TIME_ZONE'),
  log: (line) => console.log(line),
}).catch((err: NodeJS.ErrnoException & { port?: number }) => {
  if (err.code !== 'EADDRINUSE') fail(err);
  // one line naming the port and the variable that sets it, no stack trace
  const named = Object.entries({
    ...ports,
    VPP_HTTPS_PORT: httpsPort,
    VPP_S3_PORT: s3Port ?? (ports.VPP_HTTP_PORT === 0 ? 0 : 3001),
  }).find(([, p]) => p === err.port)?.[0];
  fail(`port ${err.port} is in use (EADDRINUSE)${named ? `: set ${named} to a free port (0 picks one)` : ''}`);
});
// written whole, then renamed: whoever waits for the file never reads half of it
await writeFile(join(dir, 'local.json.tmp'), `${JSON.stringify(stack.config, null, 2)}\n`, { mode: 0o600 });
await rename(join(dir, 'local.json.tmp'), join(dir, 'local.json'));
console.log(`VPP local stack ready in ${Date.now() - started} ms
  HTTP API           ${stack.config.apiUrl}   (Authorization: Bearer <token from ${join(dir, 'local.json')}>: admin; tokens.viewer, tokens.operator)
  MQTT (mutual TLS)  ${stack.config.mqtt.host}:${stack.config.mqtt.port}   CA ${stack.config.mqtt.caFile}
  HTTPS publish      https://${stack.config.mqtt.host}:${stack.config.mqtt.httpsPort}/topics/{topic}   (the device certificate)
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
