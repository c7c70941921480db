// The agent's configuration is a schema: the VOLTTRON VEN's environment names, each overridable by a command-line flag,
// validated once at start-up; an error names the variable and its flag.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { isAllowed, type PolicyAction } from '../lambdas/core/contracts/policy.js';
import { MAX_METERING_BATCH } from '../lambdas/core/contracts/schemas.js';
import { METERING_TOPIC, parseBasicIngestTopic, THING_NAME } from '../lambdas/core/contracts/topics.js';
import type { LogLevel } from './log.js';
import { AGENT_PROFILES, PROFILES, type AgentProfile } from './profile.js';
import type { DeviceMode } from './runtime.js';
import { venTopics, type VenTopics } from './ven-topics.js';

/** Flag → environment variable. */
export const FLAGS = {
  mode: 'AGENT_MODE',
  profile: 'AGENT_PROFILE',
  endpoint: 'IOT_ENDPOINT',
  port: 'IOT_PORT',
  'client-id': 'CLIENT_ID',
  cert: 'CERT_FILE',
  key: 'KEY_FILE',
  ca: 'CA_FILE',
  'telemetry-topic': 'TELEMETRY_TOPIC',
  'metering-topic': 'METERING_TOPIC',
  'loads-topic': 'LOADS_TOPIC',
  'cmd-topic': 'CMD_TOPIC',
  'ack-topic': 'ACK_TOPIC',
  'web-port': 'WEB_PORT',
  'web-host': 'WEB_HOST',
  'data-dir': 'DATA_DIR',
  'buffer-max-bytes': 'BUFFER_MAX_BYTES',
  'interval-sec': 'INTERVAL_SEC',
  'shadow-interval-sec': 'SHADOW_INTERVAL_SEC',
  'loads-interval-sec': 'LOADS_INTERVAL_SEC',
  inventory: 'ASSETS_PATH',
  site: 'GATEWAY_SITE_ID',
  panel: 'PANEL_FILE',
  'log-level': 'LOG_LEVEL',
  'keep-alive-sec': 'KEEP_ALIVE_SEC',
  'reconnect-min-sec': 'RECONNECT_MIN_SEC',
  'reconnect-max-sec': 'RECONNECT_MAX_SEC',
  'connect-timeout-sec': 'CONNECT_TIMEOUT_SEC',
  'basic-ingest': 'BASIC_INGEST',
  'metering-batch': 'METERING_BATCH',
  'install-dir': 'AGENT_INSTALL_DIR',
  'release-key': 'RELEASE_PUBLIC_KEY',
  'health-timeout-sec': 'HEALTH_TIMEOUT_SEC',
  'claim-cert': 'CLAIM_CERT_FILE',
  'claim-key': 'CLAIM_KEY_FILE',
  'provisioning-template': 'PROVISIONING_TEMPLATE',
} as const;

/** Flags that take no value (`--basic-ingest`); their variable takes 1/0, true/false, on/off. */
const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['basic-ingest']);
const OFF = 'off';

type EnvName = (typeof FLAGS)[keyof typeof FLAGS];
const FLAG_OF = Object.fromEntries(Object.entries(FLAGS).map(([flag, env]) => [env, flag])) as Record<EnvName, string>;

const file = z
  .string()
  .min(1)
  .refine((p) => existsSync(p) && statSync(p).isFile(), 'file not found');
const seconds = (fallback: number) => z.coerce.number().finite().positive().max(86_400).default(fallback);
const topic = z.string().min(1).max(256).optional();
/** Unset: the profile decides. */
const onOff = z
  .enum(['1', '0', 'true', 'false', 'on', 'off'])
  .transform((v) => v === '1' || v === 'true' || v === 'on')
  .optional();

export const envSchema = z
  .object({
    AGENT_MODE: z.enum(['ven', 'gateway', 'winter-river', 'edge']).default('ven'),
    AGENT_PROFILE: z.enum(AGENT_PROFILES as [AgentProfile, ...AgentProfile[]]).default('economy'),
    IOT_ENDPOINT: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.-]+$/, 'must be a host name or IPv4 address'),
    IOT_PORT: z.coerce.number().int().min(1).max(65_535).default(8883),
    CLIENT_ID: z.string().regex(THING_NAME, 'must be the thing name: 1-128 characters of a-z A-Z 0-9 : _ -'),
    // without a claim certificate they must exist; with one, first boot writes them (device/claim-provisioning.ts)
    CERT_FILE: z.string().min(1),
    KEY_FILE: z.string().min(1),
    CA_FILE: file,
    CLAIM_CERT_FILE: file.optional(),
    CLAIM_KEY_FILE: file.optional(),
    PROVISIONING_TEMPLATE: z
      .string()
      .regex(/^[0-9A-Za-z_-]{1,36}$/, 'a provisioning template name')
      .optional(),
    TELEMETRY_TOPIC: topic,
    METERING_TOPIC: topic,
    LOADS_TOPIC: topic,
    CMD_TOPIC: topic,
    ACK_TOPIC: topic,
    WEB_PORT: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65_535)]).default(8080),
    WEB_HOST: z.string().min(1).default('127.0.0.1'),
    DATA_DIR: z.string().min(1).optional(),
    BUFFER_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(4096)
      .max(2 ** 40)
      .default(32 * 1024 * 1024),
    INTERVAL_SEC: seconds(5),
    SHADOW_INTERVAL_SEC: z.coerce.number().finite().positive().max(86_400).optional(),
    LOADS_INTERVAL_SEC: z.coerce.number().finite().min(0).max(86_400).default(0),
    ASSETS_PATH: file.optional(),
    GATEWAY_SITE_ID: z.string().min(1).max(128).optional(),
    PANEL_FILE: file.optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    KEEP_ALIVE_SEC: z.coerce.number().int().min(5).max(1200).default(30),
    RECONNECT_MIN_SEC: z.coerce.number().int().min(1).max(3600).default(1),
    RECONNECT_MAX_SEC: z.coerce.number().int().min(1).max(3600).default(64),
    CONNECT_TIMEOUT_SEC: seconds(10),
    BASIC_INGEST: onOff,
    AGENT_INSTALL_DIR: z.string().min(1).optional(),
    RELEASE_PUBLIC_KEY: file.optional(),
    HEALTH_TIMEOUT_SEC: seconds(60),
    METERING_BATCH: z.coerce.number().int().min(1).max(MAX_METERING_BATCH).optional(),
  })
  .superRefine((env, ctx) => {
    const claim = env.CLAIM_CERT_FILE !== undefined;
    if (claim && (env.CLAIM_KEY_FILE === undefined || env.PROVISIONING_TEMPLATE === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.CLAIM_KEY_FILE === undefined ? 'CLAIM_KEY_FILE' : 'PROVISIONING_TEMPLATE'],
        message: 'required with CLAIM_CERT_FILE',
      });
    }
    for (const name of ['CERT_FILE', 'KEY_FILE'] as const) {
      const exists = existsSync(env[name]) && statSync(env[name]).isFile();
      // with a claim certificate, a missing pair is made at first boot; half a pair is a fault either way
      if (!exists && !(claim && !existsSync(env.CERT_FILE) && !existsSync(env.KEY_FILE))) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'file not found' });
      }
    }
    if (env.AGENT_MODE === 'gateway' && env.ASSETS_PATH === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ASSETS_PATH'], message: 'required in gateway mode' });
    }
    if (env.AGENT_INSTALL_DIR !== undefined && env.RELEASE_PUBLIC_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['RELEASE_PUBLIC_KEY'],
        message: 'required to take updates (AGENT_INSTALL_DIR is set)',
      });
    }
    if (env.RECONNECT_MAX_SEC < env.RECONNECT_MIN_SEC) {
      ctx.addIssue({ code: 'custom', path: ['RECONNECT_MAX_SEC'], message: 'must not be below RECONNECT_MIN_SEC' });
    }
    const checks: [EnvName, PolicyAction][] = [
      ['TELEMETRY_TOPIC', 'publish'],
      ['METERING_TOPIC', 'publish'],
      ['LOADS_TOPIC', 'publish'],
      ['ACK_TOPIC', 'publish'],
      ['CMD_TOPIC', 'subscribe'],
    ];
    if (env.BASIC_INGEST && env.METERING_TOPIC !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['METERING_TOPIC'],
        message: 'set either METERING_TOPIC or BASIC_INGEST, not both',
      });
    }
    for (const [name, action] of checks) {
      const value = env[name as keyof typeof env] as string | undefined;
      if (name === 'TELEMETRY_TOPIC' && value === OFF) continue;
      // Another stack's metering rule has its own name (the MeteringBasicIngestTopic output); its policy is the judge.
      if (name === 'METERING_TOPIC' && value !== undefined && parseBasicIngestTopic(value)?.topic === METERING_TOPIC)
        continue;
      if (value !== undefined && !isAllowed(action, env.CLIENT_ID, value)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `the device policy does not let ${env.CLIENT_ID} ${action} on ${value}`,
        });
      }
    }
  });

export interface AgentConfig {
  readonly mode: DeviceMode;
  readonly thingName: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Fleet provisioning by claim: used at first boot, while certFile and keyFile do not exist yet. */
  readonly claim?: { readonly certFile: string; readonly keyFile: string; readonly templateName: string };
  readonly broker: {
    readonly host: string;
    readonly port: number;
    readonly caFile: string;
    readonly keepAliveSec: number;
    readonly reconnectMinSec: number;
    readonly reconnectMaxSec: number;
    readonly connectTimeoutMs: number;
  };
  /** This device's own directory (offline buffer). */
  readonly dataDir: string;
  readonly bufferMaxBytes: number;
  readonly web: { readonly port: number; readonly host: string } | null;
  /** shadowMs: the shadow's period, or its heartbeat when `shadowOnChange`. */
  readonly intervals: { readonly telemetryMs: number; readonly shadowMs: number; readonly loadsMs: number };
  /** How a VEN reports (device/profile.ts); the settings below are the profile's unless given one by one. */
  readonly profile: AgentProfile;
  readonly venTopics: VenTopics;
  /** VEN metering: samples per message (1 = the VOLTTRON VEN's one message per sample) and whether the telemetry copy goes out. */
  readonly metering: { readonly batch: number; readonly telemetryCopy: boolean };
  readonly shadowOnChange: boolean;
  readonly inventoryFile?: string;
  readonly siteId?: string;
  readonly panelFile?: string;
  readonly logLevel: LogLevel;
  /** Updates over IoT Jobs, when run by the launcher (bin/agent-launcher.ts). */
  readonly update?: { readonly installDir: string; readonly releaseKeyFile: string; readonly healthTimeoutMs: number };
}

export type ConfigResult = { ok: true; config: AgentConfig } | { ok: false; help?: boolean; errors: string[] };

/** Reads flags over environment variables; unknown flags and invalid values are errors naming the field. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ConfigResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.keys(FLAGS).map((flag) => [
        flag,
        { type: BOOLEAN_FLAGS.has(flag) ? ('boolean' as const) : ('string' as const) },
      ]),
    );
    values = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (error) {
    return { ok: false, errors: [(error as Error).message] };
  }
  if (values['help']) return { ok: false, help: true, errors: [] };
  const merged: Record<string, string> = {};
  for (const name of Object.values(FLAGS)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[name] = value;
  }
  for (const [flag, name] of Object.entries(FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') merged[name] = value;
    else if (value === true) merged[name] = 'true';
  }
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '(root)');
        const flag = FLAG_OF[name as EnvName];
        return `${name}${flag ? ` (--${flag})` : ''}: ${i.message}`;
      }),
    };
  }
  const e = parsed.data;
  const profile = PROFILES[e.AGENT_PROFILE];
  // An explicit METERING_TOPIC is the metering rule's topic of another stack, or no Basic Ingest at all.
  const basicIngest = e.BASIC_INGEST ?? (profile.basicIngest && e.METERING_TOPIC === undefined);
  const defaults = venTopics(e.CLIENT_ID, { basicIngest });
  const telemetryCopy = e.TELEMETRY_TOPIC === undefined ? profile.telemetryCopy : e.TELEMETRY_TOPIC !== OFF;
  return {
    ok: true,
    config: {
      mode: e.AGENT_MODE,
      thingName: e.CLIENT_ID,
      certFile: e.CERT_FILE,
      keyFile: e.KEY_FILE,
      ...(e.CLAIM_CERT_FILE !== undefined && {
        claim: { certFile: e.CLAIM_CERT_FILE, keyFile: e.CLAIM_KEY_FILE!, templateName: e.PROVISIONING_TEMPLATE! },
      }),
      broker: {
        host: e.IOT_ENDPOINT,
        port: e.IOT_PORT,
        caFile: e.CA_FILE,
        keepAliveSec: e.KEEP_ALIVE_SEC,
        reconnectMinSec: e.RECONNECT_MIN_SEC,
        reconnectMaxSec: e.RECONNECT_MAX_SEC,
        connectTimeoutMs: Math.round(e.CONNECT_TIMEOUT_SEC * 1000),
      },
      dataDir: e.DATA_DIR ?? join('.vpp', 'agent', e.CLIENT_ID),
      bufferMaxBytes: e.BUFFER_MAX_BYTES,
      web: e.WEB_PORT === 'off' ? null : { port: e.WEB_PORT, host: e.WEB_HOST },
      intervals: {
        telemetryMs: Math.round(e.INTERVAL_SEC * 1000),
        shadowMs: e.SHADOW_INTERVAL_SEC !== undefined ? Math.round(e.SHADOW_INTERVAL_SEC * 1000) : profile.shadowMs,
        loadsMs: Math.round(e.LOADS_INTERVAL_SEC * 1000),
      },
      profile: e.AGENT_PROFILE,
      venTopics: {
        metering: e.METERING_TOPIC ?? defaults.metering,
        telemetry: telemetryCopy && e.TELEMETRY_TOPIC !== undefined ? e.TELEMETRY_TOPIC : defaults.telemetry,
        loads: e.LOADS_TOPIC ?? defaults.loads,
        command: e.CMD_TOPIC ?? defaults.command,
        ack: e.ACK_TOPIC ?? defaults.ack,
      },
      metering: { batch: e.METERING_BATCH ?? profile.meteringBatch, telemetryCopy },
      shadowOnChange: profile.shadowOnChange,
      ...(e.ASSETS_PATH !== undefined ? { inventoryFile: e.ASSETS_PATH } : {}),
      ...(e.GATEWAY_SITE_ID !== undefined ? { siteId: e.GATEWAY_SITE_ID } : {}),
      ...(e.PANEL_FILE !== undefined ? { panelFile: e.PANEL_FILE } : {}),
      logLevel: e.LOG_LEVEL,
      ...(e.AGENT_INSTALL_DIR !== undefined && e.RELEASE_PUBLIC_KEY !== undefined
        ? {
            update: {
              installDir: e.AGENT_INSTALL_DIR,
              releaseKeyFile: e.RELEASE_PUBLIC_KEY,
              healthTimeoutMs: Math.round(e.HEALTH_TIMEOUT_SEC * 1000),
            },
          }
        : {}),
    },
  };
}

const HELP: Record<EnvName, string> = {
  AGENT_MODE: 'ven | gateway | winter-river | edge (default ven)',
  AGENT_PROFILE:
    'ven: economy (default: Basic Ingest, 12 samples a message, no telemetry copy, shadow on change + every 300 s) | volttron (the VOLTTRON VEN exactly); a setting given wins',
  IOT_ENDPOINT: 'broker host: the AWS IoT ATS endpoint, or 127.0.0.1 for the local stack',
  IOT_PORT: 'default 8883',
  CLIENT_ID: 'thing name = certificate CN = MQTT client id',
  CERT_FILE: 'device certificate (PEM)',
  KEY_FILE: 'its private key (PEM)',
  CA_FILE: 'CA certificate the broker is checked against',
  TELEMETRY_TOPIC: 'ven/telemetry/<CLIENT_ID> = a copy of each metering sample (volttron); off = none (economy)',
  METERING_TOPIC: 'default volttron/metering',
  LOADS_TOPIC: 'default ven/loads/<CLIENT_ID>',
  CMD_TOPIC: 'default ven/cmd/<CLIENT_ID>',
  ACK_TOPIC: 'default ven/ack/<CLIENT_ID>',
  WEB_PORT: 'status page port, 0 = any free one, off = none (default 8080)',
  WEB_HOST: 'status page address (default 127.0.0.1)',
  DATA_DIR: 'offline buffer directory (default .vpp/agent/<CLIENT_ID>)',
  BUFFER_MAX_BYTES: 'offline buffer bound (default 33554432 = 32 MiB)',
  INTERVAL_SEC: 'metering / gateway telemetry / node status period (default 5)',
  SHADOW_INTERVAL_SEC: 'shadow report period (volttron: 30); economy: heartbeat beside on-change reports (300)',
  LOADS_INTERVAL_SEC: 'ven/loads snapshot period, 0 = off (default 0)',
  ASSETS_PATH: 'gateway: site inventory YAML (device/inventory.example.yaml)',
  GATEWAY_SITE_ID: 'gateway: which site of the inventory',
  PANEL_FILE: 'ven: panel YAML (device/panel.example.yaml); a built-in panel otherwise',
  LOG_LEVEL: 'debug | info | warn | error | silent (default info)',
  KEEP_ALIVE_SEC: 'MQTT keep-alive (default 30)',
  RECONNECT_MIN_SEC: 'reconnect backoff, first wait (default 1)',
  RECONNECT_MAX_SEC: 'reconnect backoff, longest wait (default 64)',
  CONNECT_TIMEOUT_SEC: 'first connect waits this long before going on offline (default 10)',
  BASIC_INGEST:
    'metering via Basic Ingest, $aws/rules/metering/volttron/metering: 1/0 (economy 1, volttron 0; flag takes no value)',
  AGENT_INSTALL_DIR: 'set by the launcher (dist/agent/launcher.mjs): its folder; turns on updates over IoT Jobs',
  RELEASE_PUBLIC_KEY:
    'Ed25519 public key (PEM) that release signatures must verify with; required with AGENT_INSTALL_DIR',
  HEALTH_TIMEOUT_SEC: 'a new version not connected with its shadow accepted by then is rolled back (default 60)',
  CLAIM_CERT_FILE:
    'fleet provisioning by claim: the claim certificate; while CERT_FILE/KEY_FILE do not exist the agent makes a key and CSR and exchanges them for its own certificate',
  CLAIM_KEY_FILE: "the claim certificate's private key",
  PROVISIONING_TEMPLATE: 'the provisioning template (stack output ProvisioningTemplateName; local stack: vpp-devices)',
  METERING_BATCH: `ven: metering samples per message, 1-${MAX_METERING_BATCH} (economy 12, volttron 1 = one message per sample)`,
};

export const USAGE = `Usage: npm run agent -- --mode ven|gateway|winter-river|edge --endpoint <host> --client-id <thing> \\
         --cert <file> --key <file> --ca <file> [options]

Every flag has an environment variable (flags win):
${Object.entries(FLAGS)
  .map(([flag, env]) => `  --${flag.padEnd(20)} ${env.padEnd(20)} ${HELP[env]}`)
  .join('\n')}
`;
