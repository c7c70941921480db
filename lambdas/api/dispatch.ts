// `POST /dispatch` (or its dry run) and `GET /api/dispatch/{id}` (DER gateway).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { dispatch, dispatchView, planDispatch } from '../core/commands/dispatch.js';
import { NotFoundError } from '../core/contracts/errors.js';
import { parseBody } from './body.js';
import { dispatchBodySchema } from './bodies.js';
import { idParam } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { accepted } from './reply.js';

export async function postDispatch(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const body = parseBody(dispatchBodySchema, event);
  const request =
    body.asset_id !== undefined ? { asset_id: body.asset_id, mw: body.mw } : { site_id: body.site_id!, mw: body.mw };
  if (body.dry_run) {
    const { target, gateway, mw_requested, mw_sent, clamped } = await planDispatch(request, ports.inventory);
    return { dry_run: true, ...target, gateway, mw_requested, mw_sent, clamped };
  }
  return accepted(await dispatch(request, ports, commandContext(ports)));
}

export async function getDispatch(ports: ApiPorts, id: string | undefined) {
  const command = await ports.commands.get(idParam('id', id));
  const view = command && dispatchView(command);
  if (!view) throw new NotFoundError(`dispatch ${id}`);
  return view;
}
