// Device identities, admin only: `POST /api/devices/{thingName}/revoke` (every certificate revoked, open connections
// closed) and `POST /api/certificates/{certificateId}/deactivate` (one certificate, the old one after a rotation).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { THING_NAME } from '../core/contracts/topics.js';
import { ValidationError } from '../core/contracts/errors.js';
import { parseBody } from './body.js';
import { emptyBodySchema } from './bodies.js';
import type { ApiPorts } from './ports.js';

export async function revokeDevice(ports: ApiPorts, thingName: string | undefined, event: APIGatewayProxyEventV2) {
  if (!thingName || !THING_NAME.test(thingName))
    throw new ValidationError('thingName', 'thingName: 1-128 characters of a-z A-Z 0-9 : _ -');
  parseBody(emptyBodySchema, event, true);
  const revoked = await ports.identities.revoke(thingName);
  return { ...revoked, status: 'revoked' };
}

/** AWS IoT's certificate ids are the SHA-256 of the certificate, 64 hex digits. */
const CERTIFICATE_ID = /^[0-9a-fA-F]{64}$/;

export async function deactivateCertificate(
  ports: ApiPorts,
  certificateId: string | undefined,
  event: APIGatewayProxyEventV2,
) {
  if (!certificateId || !CERTIFICATE_ID.test(certificateId))
    throw new ValidationError('certificateId', 'certificateId: 64 hex digits');
  parseBody(emptyBodySchema, event, true);
  await ports.identities.deactivate(certificateId);
  return { certificateId, status: 'INACTIVE' };
}
