// The classic shadow as a VEN uses it: which `desired` keys it obeys, read from `/update/delta` and
// `/get/accepted`. The reported document itself is built by the panel (the VOLTTRON VEN shape).
import * as z from 'zod';
import { parse } from '../lambdas/core/contracts/schemas.js';

/** `state.desired` keys a VEN applies and reports back under the same names (device/README.md). */
export const venDesiredSchema = z.object({
  reporting_interval_sec: z.number().int().min(1).max(3600).optional(),
  circuit_enabled: z.record(z.string().min(1).max(128), z.boolean()).optional(),
});
export type VenDesired = z.infer<typeof venDesiredSchema>;

export type DesiredResult = { ok: true; desired: VenDesired } | { ok: false; message: string };

/** `/update/delta` carries the difference in `state`; `/get/accepted` in `state.delta` (absent when none). */
export function readDesired(payload: string, source: 'delta' | 'document'): DesiredResult {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { ok: false, message: '(root): not JSON' };
  }
  const state = (raw as { state?: Record<string, unknown> } | null)?.state;
  const delta = source === 'delta' ? state : state?.['delta'];
  if (delta === undefined || delta === null) return { ok: true, desired: {} };
  const parsed = parse(venDesiredSchema, delta);
  return parsed.ok ? { ok: true, desired: parsed.value } : { ok: false, message: parsed.message };
}
