// The DER gateway's DER telemetry: a common core every asset sends, and per asset type an extension. Every extension
// field is optional so an older agent that sends only the core (or today's BESS-only gateway) still parses.
// The gateway publishes derGatewayTelemetrySchema on `der/telemetry/{gatewayThing}`; rule `der` validates with it.
import * as z from 'zod';
import { dispatchAckSchema, gatewayTelemetrySchema, storableNumber } from './schemas.js';

const id = z.string().min(1).max(128);
// every number is a measure the stores must keep whole (schemas.ts: storableNumber)
const signedMw = storableNumber().min(-10_000).max(10_000);
const nonNegative = storableNumber().min(0).max(1_000_000);
const percent = storableNumber().min(0).max(100);
const celsius = storableNumber().min(-60).max(200);
const epochSeconds = storableNumber().min(1e9).max(1e10);
const state = z.string().min(1).max(64);

export const ASSET_TYPES = ['bess', 'pv', 'wind', 'ev'] as const;

const core = {
  asset_id: id,
  asset_name: z.string().max(256).optional(),
  site_id: id,
  /** Epoch seconds; inside a gateway document the document's timestamp stands in for a missing one. */
  timestamp: epochSeconds.optional(),
  /** Signed: generation / discharge positive, consumption / charge negative. */
  mw: signedMw,
  /** The last commanded value. */
  mw_setpoint: signedMw.optional(),
  online: z.boolean(),
  status: state.optional(),
  fault_code: z.string().max(64).nullish(),
  capacity_mw: nonNegative.optional(),
  min_mw: signedMw.optional(),
  max_mw: signedMw.optional(),
};

export const bessTelemetrySchema = z.object({
  ...core,
  asset_type: z.literal('bess'),
  soc_pct: percent.optional(),
  soh_pct: percent.optional(),
  energy_mwh: nonNegative.optional(),
  soc_mwh: nonNegative.optional(),
  inverter_temp_c: celsius.optional(),
  ambient_temp_c: celsius.optional(),
});

export const pvTelemetrySchema = z.object({
  ...core,
  asset_type: z.literal('pv'),
  irradiance_wm2: storableNumber().min(0).max(2000).optional(),
  module_temp_c: celsius.optional(),
  inverter_state: state.optional(),
  /** Why output is held below what the sun would give: `dispatch`, `export_limit`; null when it is not. */
  curtailment_reason: z.string().max(64).nullish(),
});

export const windTelemetrySchema = z.object({
  ...core,
  asset_type: z.literal('wind'),
  wind_speed_ms: storableNumber().min(0).max(100).optional(),
  turbine_rpm: storableNumber().min(0).max(1000).optional(),
  availability_pct: percent.optional(),
  turbine_state: state.optional(),
});

export const evTelemetrySchema = z.object({
  ...core,
  asset_type: z.literal('ev'),
  station_state: z.enum(['available', 'charging', 'fault']).optional(),
  active_sessions: z.number().int().min(0).max(100_000).optional(),
  energy_delivered_mwh: nonNegative.optional(),
});

/** An agent that knows nothing of asset types sends the core alone. */
export const coreTelemetrySchema = z.object({ ...core, asset_type: z.undefined().optional() });

export const derTelemetrySchema = z.discriminatedUnion(
  'asset_type',
  [bessTelemetrySchema, pvTelemetrySchema, windTelemetrySchema, evTelemetrySchema, coreTelemetrySchema],
  { error: 'must be bess, pv, wind or ev' },
);
export type DerTelemetry = z.infer<typeof derTelemetrySchema>;

/** A gateway's site document with typed assets, on `der/telemetry/{gatewayThing}` (rule `der`). */
export const derGatewayTelemetrySchema = gatewayTelemetrySchema.extend({
  assets: z.array(derTelemetrySchema).max(256),
});
export type DerGatewayTelemetry = z.infer<typeof derGatewayTelemetrySchema>;

export { DISPATCH_REASONS, derSplitItemSchema, type DerSplitItem, type DispatchReason } from './schemas.js';

/** The dispatch ACK: its split items keep what each asset was asked, what it applies and why (schemas.ts). */
export const derDispatchAckSchema = dispatchAckSchema;
export type DerDispatchAck = z.infer<typeof derDispatchAckSchema>;
