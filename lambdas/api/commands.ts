// Operator commands: DR event and restore to a VEN, a command to a Winter River node, and a command's status.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { commandView, eventCommand, restoreCommand, sendCommand } from '../core/commands/commands.js';
import { NotFoundError, ValidationError } from '../core/contracts/errors.js';
import { MAX_PAYLOAD_BYTES } from '../core/contracts/schemas.js';
import { topics } from '../core/contracts/topics.js';
import { parseBody } from './body.js';
import { restoreBodySchema, sendEventBodySchema, winterRiverCommandBodySchema } from './bodies.js';
import { deviceIdParam, idParam } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { existingVen, getVen } from './queries.js';
import { accepted } from './reply.js';
import { recordVenEvent } from '../core/dr/fleet-event.js';

/**
 * A dry run's answer: the command as it would be published (less the correlationId a real send issues), its topic,
 * and whether the target is connected now. Nothing is recorded or published.
 */
const dryRun = (target: Record<string, string>, online: boolean | undefined, topic: string, command: object) => ({
  dry_run: true,
  ...target,
  online: online ?? false,
  topic,
  command,
});

export async function sendEvent(ports: ApiPorts, venId: string | undefined, event: APIGatewayProxyEventV2) {
  deviceIdParam('venId', venId);
  const body = parseBody(sendEventBodySchema, event);
  if (body.dry_run) {
    const ven = await getVen(ports, venId);
    const {
      event_id,
      correlationId: _issuedOnSend,
      ...command
    } = eventCommand(body.event_id ?? '', body.shed_kw, body.duration_sec, '');
    return dryRun({ venId: ven.venId }, ven.online, topics.command(ven.venId), {
      ...command,
      ...(body.event_id && { event_id }),
    });
  }
  const target = await existingVen(ports, venId);
  const ctx = commandContext(ports);
  const correlationId = ctx.newId();
  const eventId = body.event_id ?? `evt-${ctx.newId()}`;
  await sendCommand(ports, target, eventCommand(eventId, body.shed_kw, body.duration_sec, correlationId), ctx);
  await recordVenEvent(
    ports.fleetEvents,
    { venId: target, eventId, shed_kw: body.shed_kw, duration_sec: body.duration_sec, correlationId },
    ctx.now,
  );
  return accepted({ correlationId, status: 'sent', venId: target, event_id: eventId });
}

export async function restore(ports: ApiPorts, venId: string | undefined, event: APIGatewayProxyEventV2) {
  deviceIdParam('venId', venId);
  if (parseBody(restoreBodySchema, event, true).dry_run) {
    const ven = await getVen(ports, venId);
    return dryRun({ venId: ven.venId }, ven.online, topics.command(ven.venId), { op: restoreCommand('').op });
  }
  const target = await existingVen(ports, venId);
  const ctx = commandContext(ports);
  const correlationId = ctx.newId();
  await sendCommand(ports, target, restoreCommand(correlationId), ctx);
  // the VEN's commitment to a fleet event ends here: free for the next, measured for this one up to now
  const released = await ports.fleetEvents.release(target, ctx.now);
  return accepted({ correlationId, status: 'sent', venId: target, ...(released && { released_from: released }) });
}

/** Winter River: the node applies the command and answers with a fresh status, not an ACK, so nothing is tracked. */
export async function winterRiverCommand(ports: ApiPorts, nodeId: string | undefined, event: APIGatewayProxyEventV2) {
  const id = deviceIdParam('nodeId', nodeId);
  const { dry_run, ...command } = parseBody(winterRiverCommandBodySchema, event);
  const payload = JSON.stringify(command);
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
    throw new ValidationError(
      'params',
      `params: the command is over ${MAX_PAYLOAD_BYTES / 1024} KiB, the MQTT message limit`,
    );
  }
  const node = await ports.registry.get(id);
  if (node?.kind !== 'winter-river') throw new NotFoundError(`Winter River node ${id}`);
  const topic = topics.winterRiverCommand(id);
  if (dry_run) return dryRun({ nodeId: id }, node.online, topic, command);
  await ports.publisher.publish(topic, payload, 1);
  return accepted({ nodeId: id, topic, status: 'sent', command });
}

export async function getCommand(ports: ApiPorts, correlationId: string | undefined) {
  const command = await ports.commands.get(idParam('correlationId', correlationId));
  if (!command) throw new NotFoundError(`command ${correlationId}`);
  return commandView(command);
}
