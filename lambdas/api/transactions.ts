// The transaction ledger over HTTP: a node's entries newest first, an external entry (admin), the chain re-checked.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { appendEntry, externalEntrySchema, verifyChain } from '../core/records/ledger.js';
import { parseBody } from './body.js';
import { deviceIdParam, limitParam } from './params.js';
import type { ApiPorts } from './ports.js';
import type { Query } from './queries.js';
import { created } from './reply.js';

export function listTransactions(ports: ApiPorts, nodeId: string | undefined, query: Query) {
  const id = deviceIdParam('nodeId', nodeId);
  return ports.ledger.list(id, { limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) });
}

export async function postTransaction(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  return created(await appendEntry(ports.ledger, parseBody(externalEntrySchema, event), Date.now()));
}

export function verifyTransactions(ports: ApiPorts, nodeId: string | undefined) {
  return verifyChain(ports.ledger, deviceIdParam('nodeId', nodeId));
}
