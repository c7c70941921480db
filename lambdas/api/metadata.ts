// `POST /api/metadata`, `GET|PATCH /api/metadata/{nodeId}` and the node queries: active, by type, nearby.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ValidationError } from '../core/contracts/errors.js';
import { MAX_RADIUS_KM } from '../core/records/geo.js';
import {
  createMetadata,
  getMetadata,
  metadataPatchSchema,
  metadataSchema,
  nearbyNodes,
  patchMetadata,
  TECHNOLOGIES,
  type MetadataRecord,
  type Technology,
} from '../core/records/metadata.js';
import { decodeToken, encodeToken } from '../core/common/page-token.js';
import { parseBody } from './body.js';
import { deviceIdParam, limitParam, numberParam } from './params.js';
import type { ApiPorts } from './ports.js';
import type { Query } from './queries.js';
import { created } from './reply.js';

export async function postMetadata(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  return created(await createMetadata(ports.metadata, parseBody(metadataSchema, event), Date.now()));
}

export function readMetadata(ports: ApiPorts, nodeId: string | undefined) {
  return getMetadata(ports.metadata, deviceIdParam('nodeId', nodeId));
}

export function updateMetadata(ports: ApiPorts, nodeId: string | undefined, event: APIGatewayProxyEventV2) {
  const id = deviceIdParam('nodeId', nodeId);
  return patchMetadata(ports.metadata, id, parseBody(metadataPatchSchema, event), Date.now());
}

export function technologyParam(value: string | undefined): Technology {
  if (!value || !(TECHNOLOGIES as readonly string[]).includes(value)) {
    throw new ValidationError('type', `type: must be one of ${TECHNOLOGIES.join(', ')}`);
  }
  return value as Technology;
}

export function nodesByType(ports: ApiPorts, type: string | undefined, query: Query) {
  return ports.metadata.listByType(technologyParam(type), {
    limit: limitParam(query?.limit),
    ...(query?.next && { next: query.next }),
  });
}

/** Active nodes of every type, one type after the other; `next` carries the type and the position in it. */
export async function activeNodes(ports: ApiPorts, query: Query) {
  const limit = limitParam(query?.limit);
  const token = query?.next ? decodeToken<{ t?: unknown; k?: unknown }>(query.next) : { t: 0 };
  const known = Number.isInteger(token.t) && (token.t as number) >= 0 && (token.t as number) < TECHNOLOGIES.length;
  if (!known || (token.k !== undefined && typeof token.k !== 'string'))
    throw new ValidationError('next', 'next: not a page token this API issued');
  let t = token.t as number;
  let k = token.k as string | undefined;
  const items: MetadataRecord[] = [];
  while (t < TECHNOLOGIES.length && items.length < limit) {
    const page = await ports.metadata.listByType(TECHNOLOGIES[t]!, {
      limit: limit - items.length,
      ...(k && { next: k }),
    });
    items.push(...page.items.filter((m) => m.active));
    k = page.next;
    if (!k) t++;
  }
  return { items, ...(t < TECHNOLOGIES.length && { next: encodeToken({ t, ...(k && { k }) }) }) };
}

export function nodesNearby(ports: ApiPorts, query: Query) {
  const lat = numberParam('lat', query?.lat, -90, 90);
  const lon = numberParam('lon', query?.lon, -180, 180);
  const radius = numberParam('radius_km', query?.radius_km, 0, MAX_RADIUS_KM);
  return nearbyNodes(ports.metadata, lat, lon, radius, limitParam(query?.limit));
}
