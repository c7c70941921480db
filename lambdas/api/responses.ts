// The API's response bodies as zod schemas: the published contract (openapi.ts turns them into JSON Schema) and the
// dashboard's types (web/src/api/types.ts). `z.object` lists every field a body has (the document says
// `additionalProperties: false`, and the local stack's response check holds real answers to it); `z.looseObject` is
// for a body that carries what a device sent (readings, shadows, acknowledgements) next to the fields named here.
import * as z from 'zod';
import { baselineRuleSchema, eventLimitsSchema, holidaysSchema } from '../core/contracts/programs.js';
import { edgeAckSchema, edgeCommandSchema } from '../core/contracts/edge-schemas.js';
import { ackSchema, commandSchema } from '../core/contracts/schemas.js';

const iso = z.string().describe('ISO-8601 UTC');
const isoOrNull = iso.nullable();
const num = z.number();
const numOrNull = z.number().nullable();
/** A device's own fields, as it sent them. */
const values = z.record(z.string(), z.unknown());

/** The error body of the API's own answers (`error`, `field`) and of API Gateway's (`message` only). */
export const errorSchema = z.object({
  error: z.string().optional().describe('ValidationError, Forbidden, NotFound, Conflict, Unprocessable, InternalError'),
  field: z
    .string()
    .optional()
    .describe(
      'the request field at fault: a body path (`shed_kw`, `items.3.venId`), a query or path parameter, or a header',
    ),
  message: z.string(),
});

const nextToken = z.string().optional().describe('the next page: pass it back as `next`; absent on the last page');
export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next: nextToken });

// --- health, caller -------------------------------------------------------------------------------------------------

export const healthSchema = z.object({
  status: z.enum(['ok', 'down']),
  /** The local stack's parts, each up or not. */
  parts: z.record(z.string(), z.boolean()).optional(),
  down: z.array(z.string()).optional(),
});

export const openApiSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: values,
});

export const meSchema = z.object({
  role: z.enum(['viewer', 'operator', 'admin']).optional().describe('absent: a signed-in user in no group'),
});

// --- devices ----------------------------------------------------------------------------------------------------------

export const sessionSchema = z.object({
  session_id: z.string().optional(),
  peer: z.string().optional(),
  connected_at: isoOrNull,
  disconnected_at: iso.optional(),
  duration_s: num.optional(),
  disconnect_reason: z.string().optional(),
});

const deviceFields = {
  online: z.boolean(),
  firstSeen: iso.optional(),
  lastSeen: iso.optional(),
  reportIntervalMs: num.optional(),
  latest: values.optional().describe('its newest summary, as it sent it'),
  sessions: z.array(sessionSchema).optional(),
};

export const venSchema = z.object({ venId: z.string(), ...deviceFields });
export const winterRiverNodeSchema = z.object({
  nodeId: z.string(),
  status: z.unknown().describe('its last status, null before one'),
  ...deviceFields,
});

const timed = { timestamp: iso };
export const venTelemetrySchema = z.object({ venId: z.string(), ...page(z.looseObject(timed)).shape });
export const circuitHistorySchema = z.object({
  venId: z.string(),
  ...page(z.looseObject({ ...timed, load_id: z.string().optional() })).shape,
});
export const venEventsSchema = z.object({
  venId: z.string(),
  ...page(z.looseObject({ ...timed, receivedAt: iso, op: z.string() })).shape,
});
export const shadowSchema = z
  .looseObject({})
  .describe('the device shadow document (state, metadata, version, timestamp)');

// --- commands ---------------------------------------------------------------------------------------------------------

const commandStatus = z.enum(['sent', 'acked', 'rejected', 'timed-out']);

export const commandViewSchema = z.object({
  correlationId: z.string(),
  target: z.string(),
  topic: z.string(),
  op: z.string(),
  status: commandStatus,
  sentAt: iso,
  expiresAt: iso,
  completedAt: isoOrNull,
  latency_ms: numOrNull,
  command: z
    .union([commandSchema, edgeCommandSchema])
    .describe("a VEN or gateway command, or an edge node's `{action, params}`"),
  ack: z.union([ackSchema, edgeAckSchema]).nullable(),
});

export const dryRunSchema = z.object({
  dry_run: z.literal(true),
  venId: z.string().optional(),
  nodeId: z.string().optional(),
  online: z.boolean(),
  topic: z.string(),
  command: values.describe('the command as it would be published'),
});

export const sentEventSchema = z.object({
  correlationId: z.string(),
  status: z.literal('sent'),
  venId: z.string(),
  event_id: z.string(),
});
export const sentRestoreSchema = z.object({
  correlationId: z.string(),
  status: z.literal('sent'),
  venId: z.string(),
  released_from: z.string().optional().describe('the fleet event the VEN was committed to, now released'),
});
export const sentWinterRiverSchema = z.object({
  nodeId: z.string(),
  topic: z.string(),
  status: z.literal('sent'),
  command: values,
});

// --- DER: assets, sites, agents, dispatch -----------------------------------------------------------------------------

export const assetSchema = z
  .object({
    asset_id: z.string(),
    asset_name: z.string(),
    asset_type: z.string(),
    site_id: z.string(),
    site_name: z.string(),
    gateway: z.string().describe('the gateway thing serving its site'),
    capacity_mw: num.optional(),
    energy_mwh: num.optional(),
    min_mw: num,
    max_mw: num,
    min_soc_pct: num.optional(),
    max_soc_pct: num.optional(),
  })
  .describe("an inventory row: the asset file's fields with its limits filled in");

const readingSchema = z
  .looseObject({ timestamp: iso.optional(), details: values })
  .describe('a reading: the core fields, the rest in `details`');
const connectionSchema = z.object({ connected: z.boolean(), last_seen: isoOrNull });

export const assetDetailSchema = assetSchema.extend({ latest: readingSchema.nullable(), connection: connectionSchema });
export const assetTelemetrySchema = z.object({
  asset_id: z.string(),
  asset_type: z.string(),
  ...page(readingSchema).shape,
});

const derTotals = {
  assets: num,
  online: num,
  mw: num,
  available_discharge_mwh: num,
  charge_headroom_mwh: num,
  charge_headroom_mw: num,
};
const derTotalsSchema = z.object(derTotals);

export const siteSchema = z.object({
  site_id: z.string(),
  site_name: z.string(),
  gateway: z.string(),
  asset_ids: z.array(z.string()),
  min_mw: num,
  max_mw: num,
  capacity_mw: num.optional(),
  connection: connectionSchema,
  reported_at: isoOrNull,
  totals: z.object({ ...derTotals, by_type: z.record(z.string(), derTotalsSchema) }),
  assets: z.array(assetSchema.extend({ latest: readingSchema.nullable() })),
});

export const agentSchema = z.object({
  asset_id: z.string(),
  asset_name: z.string().optional(),
  site_id: z.string(),
  site_name: z.string().optional(),
  peer: z.string().describe('the gateway thing'),
  connected: z.boolean(),
  last_seen: isoOrNull,
  sessions: z.array(sessionSchema),
});

const dispatchTarget = { asset_id: z.string().optional(), site_id: z.string().optional() };
export const dispatchDryRunSchema = z.object({
  dry_run: z.literal(true),
  ...dispatchTarget,
  gateway: z.string(),
  mw_requested: num,
  mw_sent: num,
  clamped: z.boolean(),
});
export const dispatchSentSchema = z.object({
  dispatch_id: z.string(),
  correlationId: z.string(),
  status: z.literal('sent'),
  ...dispatchTarget,
  gateway: z.string(),
  mw_requested: num,
  mw_sent: num.describe("after clamping to the target's limits"),
});
export const dispatchViewSchema = z.object({
  dispatch_id: z.string(),
  correlationId: z.string(),
  status: commandStatus,
  ...dispatchTarget,
  gateway: z.string(),
  mw_requested: num,
  mw_sent: num,
  split: z.array(
    z.object({
      asset_id: z.string(),
      mw: num,
      requested_mw: numOrNull,
      applied_mw: numOrNull,
      reasons: z.array(z.string()),
    }),
  ),
  reason: z.string().nullable(),
  sentAt: iso,
  expiresAt: iso,
  completedAt: isoOrNull,
  latency_ms: numOrNull,
});

// --- fleet events and portfolio ---------------------------------------------------------------------------------------

const excludedSchema = z.object({ venId: z.string(), reason: z.string() });
const committedSchema = z.object({ venId: z.string(), eventId: z.string(), shed_kw: num, until: iso });
const allocationSchema = z.looseObject({ venId: z.string(), shed_kw: num });

const plan = {
  requested_kw: num,
  allocated_kw: num,
  shortfall_kw: num,
  excluded: z.array(excludedSchema),
  committed: z.array(committedSchema),
};
const eventStatus = z.enum(['scheduled', 'running', 'ended', 'cancelled', 'settled']);
const eventResult = z.enum(['pass', 'fail', 'over']).nullable().describe('null: not settled yet, or nothing to judge');
export const fleetEventPlanSchema = z.object({
  dry_run: z.literal(true),
  name: z.string(),
  start: iso,
  ...plan,
  allocations: z.array(allocationSchema),
  edge: z
    .object({
      available_discharge_kw: num,
      nodes: z.array(z.object({ dcId: z.string(), soc_pct: numOrNull, discharge_kw: num })),
    })
    .optional()
    .describe(
      "the online edge batteries' discharge through the event's window (what each holds over its duration, capped at its capacity_kw): listed, not allocated; send it from the edge command route",
    ),
});
export const fleetEventStartSchema = z.object({
  eventId: z.string(),
  name: z.string(),
  status: z.enum(['scheduled', 'running']),
  start: iso,
  ...plan,
  allocations: z.array(
    allocationSchema.extend({
      correlationId: z.string(),
      status: z.enum(['sent', 'failed', 'scheduled']).describe('scheduled: sent by the sweep at the start'),
    }),
  ),
});
export const fleetEventSummarySchema = z.object({
  eventId: z.string(),
  name: z.string(),
  kind: z.enum(['fleet', 'ven']).describe('ven: sent to one VEN with send-event'),
  venId: z.string().nullable().optional().describe('the VEN of a `ven` event'),
  status: eventStatus,
  result: eventResult,
  measured_shed_kw: numOrNull,
  requested_kw: num,
  duration_sec: num,
  startedAt: iso,
  endsAt: iso,
  allocated_kw: num,
  shortfall_kw: num,
  vens: num.describe('how many VENs were allocated a share'),
  program_id: z.string().optional().describe('the program the event ran in (`default`: the built-in one)'),
});

/** One 5-minute interval of a VEN's shed against its baseline; `pass` null: nothing measured in it. */
const intervalSchema = z.object({
  start: iso,
  end: iso,
  samples: num,
  baseline_kw: numOrNull,
  metered_kw: numOrNull,
  shed_kw: numOrNull,
  commitment_kw: num,
  expected_samples: num.describe('readings expected: one every 5 s per VEN'),
  coverage: numOrNull.describe('samples / expected_samples'),
  result: z.enum(['running', 'pass', 'over', 'fail', 'insufficient', 'no-data']),
  reason: z.string().optional().describe('why it is not a pass'),
  pass: z.boolean().nullable(),
});
export const fleetEventReportSchema = z.looseObject({
  eventId: z.string(),
  status: z.string().describe('active, ended, settled'),
  start: iso,
  end: iso,
  duration_sec: num,
  requested_kw: num,
  allocated_kw: num,
  shortfall_kw: num,
  acknowledged_kw: num,
  measured_shed_kw: numOrNull,
  delivered_kwh: numOrNull,
  baseline_method: z.string(),
  tolerance: num,
  intervals: z.array(intervalSchema.extend({ vens: num.describe('VENs measured in the interval') })),
  vens: z.array(z.looseObject({ venId: z.string(), status: z.string(), intervals: z.array(intervalSchema) })),
  excluded: z.array(excludedSchema),
  ven_intervals: z
    .enum(['inline', 'csv'])
    .describe("csv: too many intervals to serve inline; each VEN's `intervals` is empty and the CSV has them"),
});

export const reportLinkSchema = z.object({ url: z.string(), expiresAt: iso });

export const portfolioSchema = z.object({
  at: iso,
  vens: z.object({ total: num, online: num }),
  used_kw: num,
  shed_kw: num,
  available_shed_kw: num,
  bess: z.object({ gateways: num, online: num, mw: num, energy_mwh: num, soc_pct: numOrNull }).nullable(),
  der: z
    .object({
      gateways: z.object({ reporting: num, online: num }),
      ...derTotals,
      by_type: z.record(z.string(), derTotalsSchema),
    })
    .nullable(),
  edge: z
    .object({
      nodes: num,
      online: num,
      power_kw: num.describe("the online nodes' draw"),
      capacity_kw: num,
      battery_kwh: num,
      stored_kwh: num,
      soc_pct: numOrNull.describe('energy-weighted over the online nodes'),
      available_discharge_kw: num.describe('per online node: its stored kWh over one hour, capped at its capacity_kw'),
      available_charge_kw: num.describe('per online node: its empty kWh over one hour, capped at its capacity_kw'),
    })
    .nullable()
    .optional(),
});

export const realtimePortfolioSchema = z.object({
  time: iso,
  vens: z.object({ total: num, online: num }),
  assets: z.object({ total: num, online: num }),
  load_kw: num,
  sheddable_kw: num,
  generation_kw: num,
  mean_soc_pct: numOrNull,
});

// --- telemetry, data quality, refusals --------------------------------------------------------------------------------

const nodeKind = z.enum(['ven', 'winter-river', 'asset', 'edge']);

export const latestTelemetrySchema = z.object({
  nodeId: z.string(),
  kind: nodeKind,
  time: isoOrNull,
  online: z.boolean(),
  values: values.nullable(),
});

const gapSchema = z.object({ start: iso, end: iso, length_sec: num });
export const dataQualitySchema = z.object({
  nodeId: z.string(),
  kind: nodeKind,
  from: iso,
  to: iso,
  expected_interval_sec: num,
  expected: num,
  received: num,
  completeness_pct: num,
  gaps: z.array(gapSchema).describe('newest first'),
  late: numOrNull,
  late_after_sec: num,
  out_of_order: numOrNull,
  quiet: z.boolean(),
  refusals: z.record(z.string(), num).describe('refused messages by reason'),
  last_seen: isoOrNull,
  online: z.boolean(),
});

export const fleetQualitySchema = z.object({
  from: iso,
  to: iso,
  devices: num,
  completeness_pct: numOrNull,
  quiet: z.array(z.string()),
  items: z.array(
    z.object({
      nodeId: z.string(),
      kind: nodeKind,
      completeness_pct: num,
      expected: num,
      received: num,
      gaps: num,
      late: numOrNull,
      out_of_order: numOrNull,
      refusals: z.record(z.string(), num),
      quiet: z.boolean(),
      online: z.boolean(),
    }),
  ),
  next: nextToken,
});

export const telemetryResultSchema = z.object({
  accepted: num,
  rejected: num,
  results: z.array(
    z.object({
      index: num,
      ok: z.boolean(),
      field: z.string().optional(),
      reason: z.string().optional(),
      conflict: z.literal(true).optional(),
    }),
  ),
});

export const refusalSchema = z.object({
  at: iso,
  reason: z.string(),
  message: z.string(),
  topic: z.string().optional(),
  clientId: z.string().optional(),
  payload: z.string().optional().describe('the payload as received, cut to 4 KiB'),
  suppressed: num
    .optional()
    .describe('refusals of the same device held back by the rate limit since the last one recorded'),
  kinesis: z.looseObject({}).optional().describe("a dead letter's place in its stream"),
});

// --- metadata, ledger -------------------------------------------------------------------------------------------------

export const metadataRecordSchema = z.object({
  nodeId: z.string(),
  location: z.object({ lat: num, lon: num }),
  capacity_kw: num,
  technology: z.string(),
  tariff: z.object({ shed_price_per_kwh: num, energy_price_per_kwh: num, currency: z.string() }).optional(),
  grid_connection_point: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  active: z.boolean(),
  version: num,
  createdAt: iso,
  updatedAt: iso,
});
export const nearbySchema = z.object({
  items: z.array(metadataRecordSchema.extend({ distance_km: num })),
  total: num,
  cells_read: num,
});

export const ledgerEntrySchema = z.object({
  nodeId: z.string(),
  type: z.string(),
  ref: z.string().optional(),
  data: values,
  seq: num,
  at: iso,
  prevHash: z.string(),
  hash: z.string(),
});
export const verificationSchema = z.object({
  nodeId: z.string(),
  ok: z.boolean(),
  entries: num,
  firstBad: z.object({ seq: num, reason: z.string() }).optional(),
  head: z.object({ seq: num, hash: z.string() }).optional(),
});

// --- rollups, forecast, benchmarks ------------------------------------------------------------------------------------

export const rollupRowSchema = z.object({
  start: iso,
  end: iso,
  samples: num,
  import_kwh: numOrNull,
  export_kwh: numOrNull,
  mean_kw: numOrNull,
  peak_kw: numOrNull,
  min_soc_pct: numOrNull,
  mean_soc_pct: numOrNull,
  shed_kwh: numOrNull,
  online_hours: numOrNull,
});
export const rollupsSchema = z.object({
  nodeId: z.string(),
  period: z.enum(['daily', 'monthly']),
  ...page(rollupRowSchema).shape,
});
export const historicalSchema = z.object({
  nodeId: z.string(),
  interval: z.enum(['15m', '1h', '1d']),
  ...page(rollupRowSchema).shape,
});

const metricSchema = z.object({ value: numOrNull, percentile: numOrNull });
export const benchmarksSchema = z.object({
  nodeId: z.string(),
  type: z.string(),
  peers: num,
  from: iso,
  to: iso,
  metrics: z.object({ load_factor: metricSchema, availability: metricSchema, shed_delivered_ratio: metricSchema }),
});

const forecastFields = {
  method: z.string(),
  resolution: z.literal('15m'),
  generated_at: iso,
  points: z
    .array(z.object({ start: iso, kw: numOrNull, source: z.string() }))
    .describe('96 quarter-hours, oldest first'),
  adjustment: z.object({ factor: numOrNull, uncapped: numOrNull, capped: z.boolean() }).nullable().optional(),
  error: z.object({ held_out_days: num, mae_kw: num, naive_mae_kw: num }).nullable(),
  note: z.string().optional().describe('why there are no points, when there are none'),
};
export const venForecastSchema = z.object({ venId: z.string(), ...forecastFields });
export const siteForecastSchema = z.object({ siteId: z.string(), ...forecastFields });
export const edgeForecastSchema = z.object({ dcId: z.string(), ...forecastFields });

// --- Winter River, identities -----------------------------------------------------------------------------------------

export const winterRiverSystemSchema = z.object({
  at: isoOrNull.describe('when the controller last evaluated the system; null before it has'),
  nodes: z.array(
    z.looseObject({
      node_id: z.string(),
      kind: z.string(),
      feeds: z.array(z.string()),
      energized: z.boolean().nullable(),
      drawing_from: z.array(z.string()),
      flow_kw: numOrNull,
      load_pct: numOrNull,
      overload: z.boolean().nullable(),
      reported_at: isoOrNull,
    }),
  ),
  events: z.array(z.looseObject({ type: z.string(), node_id: z.string(), at: iso })).describe('newest first'),
});

export const revokedSchema = z.object({
  thingName: z.string(),
  certificateIds: z.array(z.string()),
  status: z.literal('revoked'),
});
export const deactivatedSchema = z.object({ certificateId: z.string(), status: z.literal('INACTIVE') });

// --- DR programs ------------------------------------------------------------------------------------------------------

export const programSchema = z.object({
  program_id: z.string(),
  name: z.string(),
  market: z.string(),
  time_zone: z.string().describe('IANA time zone'),
  baseline: baselineRuleSchema,
  holidays: holidaysSchema,
  limits: eventLimitsSchema,
  price_per_kwh: numOrNull.describe("null: the built-in program, priced by each VEN's tariff"),
  currency: z.string(),
  ven_ids: z.array(z.string()),
  site_ids: z.array(z.string()),
  version: z.int(),
  created_at: iso,
  updated_at: iso,
  built_in: z.literal(true).optional(),
});

export const programDeletedSchema = z.object({ program_id: z.string(), deleted: z.literal(true) });

// --- battery schedules ------------------------------------------------------------------------------------------------

const money = z.object({ cost: num, objective: num });
export const scheduleSchema = z.object({
  asset_id: z.string().optional(),
  battery: z.object({
    energy_kwh: num,
    max_charge_kw: num,
    max_discharge_kw: num,
    round_trip_efficiency: num,
    min_soc_pct: num,
    max_soc_pct: num,
    soft_min_soc_pct: num,
    soft_max_soc_pct: num,
    initial_soc_pct: num,
    final_soc_pct: num,
  }),
  initial_soc_source: z.enum(['body', 'telemetry', 'default']),
  slot_minutes: z.literal(15),
  start: iso,
  slots: z.array(
    z.object({
      start: iso,
      price: num,
      load_kw: num,
      charge_kw: num,
      discharge_kw: num,
      grid_kw: num,
      soc_kwh: num,
      soc_pct: num,
    }),
  ),
  cost: num.describe('the energy bill of load and battery over the day'),
  objective: num.describe('the cost plus the penalties paid'),
  penalties: z.record(z.string(), num),
  binding: z.array(z.object({ constraint: z.string(), slots: z.array(z.int()) })),
  naive: money,
  do_nothing: money,
  saving: z.object({ vs_naive: num, vs_do_nothing: num }),
  solver: z.object({ name: z.string(), version: z.string(), solve_ms: num }),
});

// --- data-centre edge nodes -------------------------------------------------------------------------------------------

export const edgeNodeSchema = z.object({
  dcId: z.string(),
  capacity_kw: numOrNull.describe('from its last `meta`'),
  battery_kwh: numOrNull.describe('from its last `meta`'),
  online: z.boolean(),
  firstSeen: iso.optional(),
  lastSeen: iso.optional(),
  reportIntervalMs: num.optional(),
  sessions: z.array(sessionSchema).optional(),
  latest: values.nullable().describe('its newest sample as sent (`payload`), with when it was received'),
});

export const edgeTelemetrySchema = z.object({
  dcId: z.string(),
  items: z.array(z.object({ time: iso, source: z.string().nullable().describe('mqtt or http'), payload: values })),
  next: nextToken,
});

const edgeCommandView = z.object({ action: z.enum(['charge', 'discharge', 'set_power', 'stop']), params: values });
export const edgeCommandPlanSchema = z.object({
  dry_run: z.literal(true),
  dcId: z.string(),
  online: z.boolean(),
  topic: z.string(),
  command: edgeCommandView,
});
export const edgeCommandSentSchema = z.object({
  correlationId: z.string(),
  status: z.literal('sent'),
  dcId: z.string(),
  topic: z.string(),
  command: edgeCommandView.extend({ correlationId: z.string() }),
});
