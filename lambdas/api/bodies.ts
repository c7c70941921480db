// The operator API's request bodies, one schema each, built from the wire schemas they turn into. Every body is
// strict: an unknown key is a 400 naming it, so a misspelt `dry_run` (or any field) never acts for real.
import * as z from 'zod';
import {
  dispatchCommandSchema,
  eventCommandSchema,
  meteringSchema,
  winterRiverCommandSchema,
} from '../core/contracts/schemas.js';
import { THING_NAME } from '../core/contracts/topics.js';

const { shed_kw, duration_sec, event_id } = eventCommandSchema.shape;
const { asset_id, site_id, mw } = dispatchCommandSchema.shape;

/** Plan only, send nothing: the answer says what would be sent, and where. */
const dry_run = z.boolean().optional();

/** `POST /api/vens/{venId}/send-event`. */
export const sendEventBodySchema = z.strictObject({ shed_kw, duration_sec, event_id: event_id.optional(), dry_run });

/** `POST /api/vens/{venId}/restore`: no body, `{}` or `{"dry_run": true}`. */
export const restoreBodySchema = z.strictObject({ dry_run });

/** `POST /api/winter-river/nodes/{nodeId}/command`: the command as the node gets it, and `dry_run`. */
export const winterRiverCommandBodySchema = z.strictObject({ ...winterRiverCommandSchema.shape, dry_run });

/** The routes whose path says everything (revoke, deactivate): no body, or `{}`. */
export const emptyBodySchema = z.strictObject({});

/** `POST /api/telemetry`, one item: a metering payload as the device sends it, with no key the rule would drop. */
export const telemetryItemSchema = meteringSchema.strict();

/** `POST /dispatch` (DER gateway): signed MW, positive = discharge/export; `asset_id` wins over `site_id`. */
export const dispatchBodySchema = z
  .strictObject({ asset_id, site_id, mw, dry_run })
  .refine((b) => b.asset_id !== undefined || b.site_id !== undefined, {
    message: 'asset_id or site_id is required',
    path: ['asset_id'],
  });

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
  /** The program the event runs in (docs/concepts.md, "Programs"); default: the built-in one. */
  program_id: z.string().min(1).max(64).optional(),
  /** ISO-8601 with a time zone: a scheduled start, at least a minute and at most 7 days ahead (checked on receipt). */
  start_at: z.iso
    .datetime({ offset: true, message: 'must be an ISO-8601 time with a zone, e.g. 2026-12-08T17:00:00Z' })
    .optional(),
  /** What operators call it; default "Shed 1.5 MW · Mon 17:00 UTC". */
  name: z
    .string()
    .trim()
    .min(1)
    .max(80)
    .regex(/^[^\p{C}]*$/u, 'must be printable text')
    .optional(),
  dry_run,
});

/** `POST /api/events/{eventId}/end` and `/cancel`: no body, `{}` or `{"dry_run": true}`. */
export const eventActionBodySchema = z.strictObject({ dry_run });

/** `POST /api/telemetry` as a batch; a body without `items` is one metering payload. */
export const telemetryBatchSchema = z.strictObject({ items: z.array(z.unknown()).min(1).max(100) });
