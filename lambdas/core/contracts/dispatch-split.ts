// One asset of a dispatch ACK's split (DER gateway): its own module so that both the ACK schema (schemas.ts) and the
// DER schemas (der-schemas.ts) use it without importing each other.
import * as z from 'zod';

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

const signedMw = z.number().finite().min(-10_000).max(10_000);

/**
 * One asset of a dispatch ACK's split. `mw` is the setpoint given (the field every backend reads); the rest say what
 * the asset was asked, what it will settle at under its physics now, and why those differ. Older gateways send `mw` alone.
 */
export const derSplitItemSchema = z.object({
  asset_id: z.string().min(1).max(128),
  mw: signedMw,
  requested_mw: signedMw.optional(),
  applied_mw: signedMw.optional(),
  reasons: z.array(z.enum(DISPATCH_REASONS)).max(DISPATCH_REASONS.length).optional(),
});
export type DerSplitItem = z.infer<typeof derSplitItemSchema>;
