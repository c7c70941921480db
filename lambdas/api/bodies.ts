// The operator API's request bodies, one schema each, built from the wire schemas they turn into.
import * as z from 'zod';
import { dispatchCommandSchema, eventCommandSchema } from '../core/schemas.js';
import { THING_NAME } from '../core/topics.js';

const { shed_kw, duration_sec, event_id } = eventCommandSchema.shape;
const { asset_id, site_id, mw } = dispatchCommandSchema.shape;

/** `POST /api/vens/{venId}/send-event`. */
export const sendEventBodySchema = z.object({ shed_kw, duration_sec, event_id: event_id.optional() });

/** Plan only, send nothing. Strict, as are the bodies that take it: a misspelt `dry_run` must not send for real. */
const dry_run = z.boolean().optional();

/** `POST /dispatch` (seed 002): signed MW, positive = discharge/export; `asset_id` wins over `site_id`. */
export const dispatchBodySchema = z
  .strictObject({ asset_id, site_id, mw, dry_run })
  .refine((b) => b.asset_id !== undefined || b.site_id !== undefined, { message: 'asset_id or site_id is required', path: ['asset_id'] });

/** `POST /api/events`: a fleet shed request; every online VEN unless `ven_ids` names them. */
export const fleetEventBodySchema = z.strictObject({
  shed_kw,
  duration_sec,
  ven_ids: z
    .array(z.string().regex(THING_NAME, 'must be a thing name (a-z A-Z 0-9 : _ -)'))
    .min(1)
    .max(1000)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a VEN')
    .optional(),
  dry_run,
});

/** `POST /api/telemetry` as a batch; a body without `items` is one metering payload. */
export const telemetryBatchSchema = z.object({ items: z.array(z.unknown()).min(1).max(100) });
