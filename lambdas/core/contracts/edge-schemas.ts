// Data-centre edge nodes: what an edge node publishes on `edge/{dc_id}/telemetry` (QoS 0, every 5 s) and
// `edge/{dc_id}/status`, the commands it takes on `edge/{dc_id}/control` (QoS 1) and the ACK it answers them with on
// `edge/{dc_id}/ack`. Field names and types are the edge software's own; rule `edge` validates with these, and so does
// the HTTP fallback (`POST /api/telemetry`, `/api/telemetry/{nodeId}`, `/api/telemetry/batch`).
import * as z from 'zod';
import { isStorableNumber, STORABLE_MESSAGE, storableNumber } from './schemas.js';
import { THING_NAME } from './topics.js';

const dcId = z.string().regex(THING_NAME, 'must be 1-128 characters of a-z A-Z 0-9 : _ -');
const percent = storableNumber().min(0).max(100);
/** Signed kW: the site's draw (`power_kw`) or a battery's power. */
const signedKw = storableNumber().min(-1_000_000).max(1_000_000);
const positiveKw = storableNumber().positive().max(1_000_000);

/** ISO-8601 with a zone (the edge software writes UTC with `Z`), or epoch seconds. */
export const edgeTimestampSchema = z.union([
  z
    .string()
    .max(40)
    .regex(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/,
      'must be ISO-8601 with a zone (2026-01-01T00:00:00Z) or epoch seconds',
    )
    .refine((s) => Number.isFinite(Date.parse(s)), 'must be a real date'),
  storableNumber().min(1e9).max(1e10),
]);

/** When a timestamp as sent was taken, in epoch milliseconds (ISO fractions past milliseconds cut). */
export function edgeTimeMs(timestamp: string | number): number {
  if (typeof timestamp === 'number') return Math.round(timestamp * 1000);
  return Date.parse(timestamp.replace(/(\.\d{3})\d+/, '$1'));
}

/** The host's battery as `psutil.sensors_battery()` reports it; null on a machine without one (a server). */
export const hostBatterySchema = z.object({
  percent: percent,
  plugged: z.boolean().nullish(),
  secsleft: storableNumber().nullish(),
});

/** Extra `meta` keys the edge software sends (sim, uptime, location…): scalars only, a few. */
const metaValue = z.union([z.string().max(256), z.boolean(), z.null(), storableNumber()]);

/** Names the stored sample keeps for itself (the sent `timestamp`, the path it came by): not payload keys. */
export const EDGE_RESERVED_KEYS = ['sent_timestamp', 'source'] as const;
const reserved = new Set<string>(EDGE_RESERVED_KEYS);

/** What a node says of itself: its rating and its battery's energy; the registry takes both from here. */
export const edgeMetaSchema = z
  .object({ capacity_kw: positiveKw, battery_kwh: storableNumber().min(0).max(1_000_000) })
  .catchall(metaValue)
  .refine((m) => Object.keys(m).length <= 32, { message: 'at most 32 keys', path: ['capacity_kw'] });

/**
 * One telemetry message. `power_kw` is the site's draw, `soc` its battery's state of charge (%), `freq` the grid's
 * frequency (Hz), `cpu` `ram` `disk` the host's use (%), `battery` the host's own battery. Any other top-level key must
 * be a scalar: it is stored and read back with the rest.
 */
export const edgeTelemetrySchema = z
  .object({
    dc_id: dcId,
    timestamp: edgeTimestampSchema.optional(),
    power_kw: signedKw,
    soc: percent,
    freq: storableNumber().min(40).max(70),
    cpu: percent,
    ram: percent,
    disk: percent,
    battery: hostBatterySchema.nullable().optional(),
    meta: edgeMetaSchema,
  })
  .catchall(metaValue)
  .refine((t) => Object.keys(t).length <= 64, { message: 'at most 64 keys', path: ['dc_id'] })
  .superRefine((t, ctx) => {
    for (const [key, value] of Object.entries(t)) {
      if (reserved.has(key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'is a name the platform keeps for itself' });
      if (typeof value === 'number' && !isStorableNumber(value))
        ctx.addIssue({ code: 'custom', path: [key], message: STORABLE_MESSAGE });
    }
  });
export type EdgeTelemetry = z.infer<typeof edgeTelemetrySchema>;

/** `edge/{dc_id}/status`: the node's own word on its state (also its MQTT last will, `offline`). */
export const edgeStatusSchema = z.object({
  dc_id: dcId.optional(),
  status: z.enum(['online', 'offline']),
  timestamp: edgeTimestampSchema.optional(),
});
export type EdgeStatus = z.infer<typeof edgeStatusSchema>;

export const EDGE_ACTIONS = ['charge', 'discharge', 'set_power', 'stop'] as const;
export type EdgeAction = (typeof EDGE_ACTIONS)[number];

const kwParams = z.strictObject({ kw: positiveKw });
/** The parameters of each action: charge and discharge at `kw` (> 0); set_power to `kw` (+ charge, − discharge); stop: none. */
export const edgeParamsSchemas = {
  charge: kwParams,
  discharge: kwParams,
  set_power: z.strictObject({ kw: signedKw }),
  stop: z.strictObject({}),
} as const satisfies Record<EdgeAction, z.ZodType>;

const correlationId = z.string().min(1).max(128);

/** A command on `edge/{dc_id}/control` (QoS 1): `{action, params}` and the correlationId its ACK carries back. */
export const edgeCommandSchema = z.discriminatedUnion(
  'action',
  [
    z.object({ action: z.literal('charge'), params: edgeParamsSchemas.charge, correlationId }),
    z.object({ action: z.literal('discharge'), params: edgeParamsSchemas.discharge, correlationId }),
    z.object({ action: z.literal('set_power'), params: edgeParamsSchemas.set_power, correlationId }),
    z.object({ action: z.literal('stop'), params: edgeParamsSchemas.stop.default({}), correlationId }),
  ],
  { error: 'must be charge, discharge, set_power or stop' },
);
export type EdgeCommand = z.infer<typeof edgeCommandSchema>;

/**
 * The node's answer on `edge/{dc_id}/ack`: the command's correlationId and action, `accepted` or `rejected` (with a
 * reason), when (epoch seconds), and the battery's power and state of charge once applied.
 */
export const edgeAckSchema = z.object({
  correlationId,
  action: z.enum(EDGE_ACTIONS),
  status: z.enum(['accepted', 'rejected']),
  reason: z.string().max(512).optional(),
  ts: storableNumber().min(1e9).max(1e10),
  charge_rate_kw: signedKw.optional(),
  soc: percent.optional(),
});
export type EdgeAck = z.infer<typeof edgeAckSchema>;
