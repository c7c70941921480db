// `GET /api/refused`: the messages the platform refused in the last week, newest first, all or one device's.
import { deviceIdParam, limitParam } from './params.js';
import type { ApiPorts } from './ports.js';
import { page, type Query } from './queries.js';

export async function listRefused(ports: ApiPorts, query: Query) {
  const result = await ports.refusals.list({
    limit: limitParam(query?.limit),
    ...(query?.device !== undefined && { deviceId: deviceIdParam('device', query.device) }),
    ...(query?.next && { next: query.next }),
  });
  return page(result, ({ at, ...refusal }) => ({ at: new Date(at).toISOString(), ...refusal }));
}
