// One validator per wire message; the TypeScript types are inferred from them.
// Field names are the source systems' names, byte for byte.
import * as z from 'zod';
import { THING_NAME } from './topics.js';

// One asset of a dispatch ACK's split (DER gateway): the ACK schema here and the DER schemas (der-schemas.ts) use it.
/** Why an asset's applied setpoint differs from what it was asked (device/README.md, "Guardrails"). */
export const DISPATCH_REASONS = [
  'clamped:max_mw',
  'clamped:min_mw',
  'soc_floor',
  'soc_ceiling',
  'ramp',
  'unavailable',
  'curtailment',
] as const;
export type DispatchReason = (typeof DISPATCH_REASONS)[number];

/** A split item's MW: any finite number within ±10,000. */
const splitMw = z.number().finite().min(-10_000).max(10_000);

/**
 * One asset of a dispatch ACK's split. `mw` is the setpoint given (the field every backend reads); the rest say what
 * the asset was asked, what it will settle at under its physics now, and why those differ. Older gateways send `mw` alone.
 */
export const derSplitItemSchema = z.object({
  asset_id: z.string().min(1).max(128),
  mw: splitMw,
  requested_mw: splitMw.optional(),
  applied_mw: splitMw.optional(),
  reasons: z.array(z.enum(DISPATCH_REASONS)).max(DISPATCH_REASONS.length).optional(),
});
export type DerSplitItem = z.infer<typeof derSplitItemSchema>;

/** AWS IoT Core's message size limit; larger payloads go to the error sink. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

/**
 * How deep JSON may nest, from a device (the local rules engine checks the text before it parses it, so no later
 * step runs out of stack) or in a request body: the source systems' documents nest 3 levels.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether JSON text nests objects and arrays deeper than `max`: one pass over the text, no recursion. */
export function jsonDepthOver(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** How far ahead of its receive time a device's clock may run: a sample from further ahead is refused (`clock-skew`). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * DynamoDB keeps 0 and magnitudes from 1e-130 up to (not including) 1e126, with at most 38 significant digits; a
 * JavaScript number has at most 17, so only the magnitude can be out of range (and `1e999` parses to Infinity). The
 * SDK's document client, though, refuses to write a number past Number.MAX_SAFE_INTEGER and reads one back as a
 * BigInt (or fails on `1E+125`): so a storable number stays within ±(2^53 - 1).
 */
export const isStorableNumber = (n: number): boolean =>
  n === 0 || (Math.abs(n) >= 1e-130 && Math.abs(n) <= Number.MAX_SAFE_INTEGER);
export const STORABLE_MESSAGE = 'must be 0 or of magnitude 1e-130 to 9007199254740991 (2^53 - 1)';
/** A number every store can keep whole: checked at the edge so that no message is stored half (one series, not the other). */
export const storableNumber = () => z.number().finite().refine(isStorableNumber, STORABLE_MESSAGE);

const deviceId = z.string().regex(THING_NAME, 'must be 1-128 characters of a-z A-Z 0-9 : _ -');
const id = z.string().min(1).max(128);
/**
 * A circuit or load id (`circuits[].id`, `loads[].loadId`, `circuits_curtailed[].loadId`): the one rule the ingest
 * applies and the API's `load_id` filter accepts, so every id a device may send can be queried back.
 */
export const circuitIdSchema = id;
const name = z.string().max(256);
const kw = storableNumber().min(0).max(1_000_000);
const signedMw = storableNumber().min(-10_000).max(10_000);
const percent = storableNumber().min(0).max(100);
const positive = storableNumber().positive().max(1_000_000);
/** Epoch seconds from 2001 to 2286: catches milliseconds sent by mistake. */
const epochSeconds = storableNumber().min(1e9).max(1e10);
const correlationId = z.string().min(1).max(128);

export const circuitSchema = z.object({
  id: circuitIdSchema,
  name: name.optional(),
  breakerAmps: positive.optional(),
  currentKw: kw,
  currentAmps: kw.optional(),
  enabled: z.boolean(),
  critical: z.boolean().optional(),
});

export const loadSchema = z.object({
  loadId: circuitIdSchema,
  name: name.optional(),
  type: z.string().max(64).optional(),
  capacityKw: kw.optional(),
  currentPowerKw: kw,
  shedCapabilityKw: kw.optional(),
  enabled: z.boolean(),
  priority: z.number().int().min(0).max(100).optional(),
  critical: z.boolean().optional(),
});

export const meteringSchema = z.object({
  venId: deviceId,
  timestamp: epochSeconds,
  usedPowerKw: kw,
  shedPowerKw: kw.optional(),
  requestedReductionKw: kw.optional(),
  eventId: id.nullish(),
  baselinePowerKw: kw.optional(),
  batterySOC: percent.optional(),
  panelAmperageRating: positive.optional(),
  panelVoltage: positive.optional(),
  panelMaxKw: positive.optional(),
  currentAmps: kw.optional(),
  panelUtilizationPercent: storableNumber().min(0).max(1000).optional(),
  circuits: z.array(circuitSchema).max(256).default([]),
  loads: z.array(loadSchema).max(256).default([]),
});
export type Metering = z.infer<typeof meteringSchema>;

/** Most samples in one batched metering message: 40 of the agent's 8-circuit samples are ~100 KB, under 128 KiB. */
export const MAX_METERING_BATCH = 40;

/**
 * Batched metering (the agent's `METERING_BATCH=n`): n VOLTTRON metering samples of one VEN in one message on the
 * metering topic, stored exactly as n single messages would be. Fewer messages, rule runs, Lambda invocations and
 * registry writes; the time-series records of the whole batch go to the store in one write.
 */
export const meteringBatchSchema = z
  .object({
    venId: deviceId,
    batch: z.array(meteringSchema).min(1).max(MAX_METERING_BATCH),
  })
  .superRefine((b, ctx) => {
    const i = b.batch.findIndex((sample) => sample.venId !== b.venId);
    if (i >= 0)
      ctx.addIssue({ code: 'custom', path: ['batch', i, 'venId'], message: `must be the batch's venId ${b.venId}` });
  });
export type MeteringBatch = z.infer<typeof meteringBatchSchema>;

/** `ven/telemetry/{venId}` carries the metering payload unchanged. */
export const telemetrySchema = meteringSchema;

export const loadsSnapshotSchema = z.object({
  schemaVersion: z.literal('1.0'),
  venId: deviceId,
  timestamp: epochSeconds,
  loads: z.array(loadSchema).max(256),
});
export type LoadsSnapshot = z.infer<typeof loadsSnapshotSchema>;

const curtailedCircuit = z.object({ loadId: circuitIdSchema, name: name.optional(), shedKw: kw });

export const eventAckSchema = z.object({
  op: z.literal('event'),
  status: z.enum(['accepted', 'rejected']),
  event_id: id,
  requested_shed_kw: kw,
  actual_shed_kw: kw,
  circuits_curtailed: z.array(curtailedCircuit).max(256).default([]),
  reason: z.string().max(512).optional(),
  ts: epochSeconds,
  correlationId,
});

export const restoreAckSchema = z.object({
  op: z.literal('restore'),
  status: z.enum(['success', 'failed']),
  event_id: id.optional(),
  reason: z.string().max(512).optional(),
  ts: epochSeconds,
  correlationId,
});

export const pingAckSchema = z.object({
  op: z.literal('ping'),
  status: z.literal('pong'),
  ts: epochSeconds,
  correlationId,
});

export const dispatchAckSchema = z.object({
  op: z.literal('dispatch'),
  status: z.enum(['accepted', 'rejected']),
  dispatch_id: id.optional(),
  site_id: id.optional(),
  asset_id: id.optional(),
  requested_mw: signedMw,
  split: z.array(derSplitItemSchema).max(256).default([]),
  reason: z.string().max(512).optional(),
  ts: epochSeconds,
  correlationId,
});

export const ackSchema = z.discriminatedUnion('op', [
  eventAckSchema,
  restoreAckSchema,
  pingAckSchema,
  dispatchAckSchema,
]);
export type Ack = z.infer<typeof ackSchema>;
export type EventAck = z.infer<typeof eventAckSchema>;

export const eventCommandSchema = z.object({
  op: z.literal('event'),
  event_id: id,
  shed_kw: kw.refine((v) => v > 0, 'must be greater than 0'),
  duration_sec: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
  correlationId,
  data: z.object({ requestedReductionKw: kw, duration_s: z.number().int().min(1) }).optional(),
});
export const restoreCommandSchema = z.object({ op: z.literal('restore'), correlationId });
export const pingCommandSchema = z.object({ op: z.literal('ping'), correlationId });
export const dispatchCommandSchema = z
  .object({
    op: z.literal('dispatch'),
    dispatch_id: id.optional(),
    asset_id: id.optional(),
    site_id: id.optional(),
    mw: signedMw,
    correlationId,
  })
  .refine((c) => c.asset_id !== undefined || c.site_id !== undefined, {
    message: 'asset_id or site_id is required',
    path: ['asset_id'],
  });

export const commandSchema = z.union([
  eventCommandSchema,
  restoreCommandSchema,
  pingCommandSchema,
  dispatchCommandSchema,
]);
export type Command = z.infer<typeof commandSchema>;
export type EventCommand = z.infer<typeof eventCommandSchema>;
export type DispatchCommand = z.infer<typeof dispatchCommandSchema>;

/** A gateway's site telemetry (BESS-only shape); der-schemas.ts extends it for `der/telemetry/{gatewayThing}`. */
export const assetTelemetrySchema = z.object({
  asset_id: id,
  asset_name: z.string().optional(),
  site_id: id,
  asset_type: z.string(),
  mw: signedMw,
  mw_setpoint: signedMw,
  soc_pct: percent,
  soc_mwh: storableNumber().min(0),
  energy_mwh: positive,
  capacity_mw: positive.optional(),
  min_mw: signedMw,
  max_mw: signedMw,
  online: z.boolean(),
  status: z.string(),
});

export const gatewayTelemetrySchema = z.object({
  gatewayId: deviceId,
  site_id: id,
  timestamp: epochSeconds,
  mw: signedMw,
  mw_setpoint: signedMw,
  assets: z.array(assetTelemetrySchema).max(256),
});
export type AssetTelemetry = z.infer<typeof assetTelemetrySchema>;
export type GatewayTelemetry = z.infer<typeof gatewayTelemetrySchema>;

export const shadowCircuitSchema = z.object({
  id: circuitIdSchema,
  name: name.optional(),
  enabled: z.boolean(),
  available: z.boolean().optional(),
  current_kw: kw,
  breaker_amps: positive.optional(),
  current_amps: kw.optional(),
  critical: z.boolean().optional(),
});

export const shadowReportedSchema = z.object({
  state: z.object({
    reported: z.object({
      power_kw: kw,
      shed_kw: kw,
      panel_amperage: positive.optional(),
      panel_voltage: positive.optional(),
      panel_max_kw: positive.optional(),
      circuits: z.array(shadowCircuitSchema).max(256),
      active_event: z.object({ event_id: id, shed_kw: kw, end_ts: epochSeconds }).nullable().optional(),
      timestamp: epochSeconds,
    }),
  }),
});
export type ShadowReported = z.infer<typeof shadowReportedSchema>;

/** ESP32 node status: `node_id` and `status` are tags, every numeric key is a field. */
export const winterRiverStatusSchema = z
  .object({
    node_id: deviceId,
    status: z.string().min(1).max(64),
    voltage_in: storableNumber().optional(),
    current: storableNumber().optional(),
    power_kw: storableNumber().optional(),
    wifi_rssi: storableNumber().optional(),
    uptime: storableNumber().min(0).optional(),
  })
  .catchall(z.unknown())
  .refine((s) => Object.keys(s).length <= 64, { message: 'at most 64 keys', path: ['node_id'] })
  .superRefine((s, ctx) => {
    // every numeric key is a stored field, named or not
    for (const [key, value] of Object.entries(s)) {
      if (typeof value === 'number' && !isStorableNumber(value))
        ctx.addIssue({ code: 'custom', path: [key], message: STORABLE_MESSAGE });
    }
  });
export type WinterRiverStatus = z.infer<typeof winterRiverStatusSchema>;

export const winterRiverCommandSchema = z.object({
  command: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a snake_case command name'),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type WinterRiverCommand = z.infer<typeof winterRiverCommandSchema>;

/** IoT Core lifecycle event on `$aws/events/presence/{connected|disconnected}/{clientId}`. */
export const presenceEventSchema = z.object({
  clientId: z.string().min(1).max(128),
  timestamp: z.number().int().nonnegative(),
  eventType: z.enum(['connected', 'disconnected']),
  sessionIdentifier: z.string().optional(),
  principalIdentifier: z.string().optional(),
  disconnectReason: z.string().optional(),
  versionNumber: z.number().int().optional(),
  ipAddress: z.string().optional(),
});
export type PresenceEvent = z.infer<typeof presenceEventSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

/**
 * The path of the first key in parsed JSON that JavaScript objects treat specially, if any: JSON.parse keeps
 * `__proto__` as an own key but every copy by assignment (a schema's catch-all, a record of measures) drops it, and an
 * own `constructor` makes the DynamoDB marshaller take the object for a class instance and throw, so such a message
 * could never be stored whole. Walked without recursion, so a deeply nested message cannot exhaust the stack.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * A lone UTF-16 surrogate (JSON's `"\ud800"`) is no Unicode character: stored as UTF-8 it would change (and break a
 * hash over it), and served back it is JSON that strict parsers refuse. Refused in every key and string value.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NOT_UNICODE = 'not valid Unicode (a lone UTF-16 surrogate)';

/** The first key JavaScript treats specially, or key or string that is not valid Unicode: its path and why. */
function unsafeTextPath(data: unknown): { field: string; why: string } | undefined {
  const stack: [unknown, string][] = [[data, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) return { field: path || '(root)', why: NOT_UNICODE };
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const at = path ? `${path}.${segment(key)}` : segment(key);
      if (RESERVED_KEYS.has(key)) return { field: at, why: 'not a field name (reserved in JavaScript)' };
      if (LONE_SURROGATE.test(key)) return { field: path || '(root)', why: `a key is ${NOT_UNICODE}` };
      stack.push([(value as Record<string, unknown>)[key], at]);
    }
  }
  return undefined;
}

/** A field path's step as a refusal shows it: a name or index as it is, any other key quoted (`tags." "`). */
const segment = (key: PropertyKey | undefined) =>
  typeof key === 'string' && !/^[\w$-]+$/.test(key)
    ? LONE_SURROGATE.test(key)
      ? '(key)'
      : JSON.stringify(key)
    : String(key);

/** A field path as refusals name it: `circuits.0.currentKw`, `tags." "`, `(root)` for none. */
export const fieldPath = (path: readonly (PropertyKey | undefined)[]) => path.map(segment).join('.') || '(root)';

/** Validates `data`; on failure names the first offending field (`circuits.0.currentKw`). */
export function parse<T extends z.ZodType>(schema: T, data: unknown): ParseResult<z.infer<T>> {
  const unsafe = unsafeTextPath(data);
  if (unsafe !== undefined) return { ok: false, field: unsafe.field, message: `${unsafe.field}: ${unsafe.why}` };
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  const field = fieldPath(path);
  return { ok: false, field, message: `${field}: ${issue.message}` };
}
