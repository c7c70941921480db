// `POST /api/devices/{thingName}/revoke` (admin): the device's certificates revoked, its open connections closed.
import { THING_NAME } from '../core/topics.js';
import { ValidationError } from '../core/errors.js';
import type { ApiPorts } from './ports.js';

export async function revokeDevice(ports: ApiPorts, thingName: string | undefined) {
  if (!thingName || !THING_NAME.test(thingName)) throw new ValidationError('thingName', 'thingName: 1-128 characters of a-z A-Z 0-9 : _ -');
  const revoked = await ports.identities.revoke(thingName);
  return { ...revoked, status: 'revoked' };
}
