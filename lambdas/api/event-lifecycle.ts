// `POST /api/events/{eventId}/end` and `/cancel` (or their dry runs), with their responses' schemas.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { cancelFleetEvent, endFleetEvent } from '../core/dr/event-lifecycle.js';
import { parseBody } from './body.js';
import { eventActionBodySchema } from './bodies.js';
import { idParam } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { accepted } from './reply.js';

/** A running event ended now: each VEN still committed sent its restore (202), or, as a dry run, who would be (200). */
export async function endEvent(ports: ApiPorts, eventId: string | undefined, event: APIGatewayProxyEventV2) {
  const id = idParam('eventId', eventId);
  const { dry_run } = parseBody(eventActionBodySchema, event, true);
  const result = await endFleetEvent(id, ports, commandContext(ports), dry_run === true);
  return dry_run ? result : accepted(result);
}

/** A scheduled event cancelled before it starts: nothing sent, its VENs freed (200); a running one is a 409. */
export async function cancelEvent(ports: ApiPorts, eventId: string | undefined, event: APIGatewayProxyEventV2) {
  const id = idParam('eventId', eventId);
  const { dry_run } = parseBody(eventActionBodySchema, event, true);
  return cancelFleetEvent(id, ports, Date.now(), dry_run === true);
}

const isoTime = z.iso.datetime({ offset: true });

/** `POST /api/events/{eventId}/end`: 202, or 200 with `dry_run: true` (`restore` then lists VENs only). */
export const endEventResponseSchema = z.strictObject({
  dry_run: z.literal(true).optional(),
  eventId: z.string(),
  name: z.string().nullable(),
  endsAt: isoTime,
  status: z.enum(['running', 'ended']),
  restore: z.array(
    z.strictObject({
      venId: z.string(),
      correlationId: z.string().optional(),
      status: z.enum(['sent', 'failed']).optional(),
    }),
  ),
});

/** `POST /api/events/{eventId}/cancel`: 200 (with `dry_run: true`, nothing changed). */
export const cancelEventResponseSchema = z.strictObject({
  dry_run: z.literal(true).optional(),
  eventId: z.string(),
  name: z.string().nullable(),
  start: isoTime,
  vens: z.array(z.string()),
  status: z.enum(['scheduled', 'cancelled']),
});
