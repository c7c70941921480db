// The local stack's slice of the AWS IoT control-plane API that revoking a device uses (ListThingPrincipals,
// UpdateCertificate, DetachPolicy, DetachThingPrincipal, UpdateThing), SigV4-signed as restJson, so the API runs the
// deployed adapter (lambdas/core/fleet/identities.ts) with `@aws-sdk/client-iot` and its calls are recorded as in AWS. The
// certificate registry is the state: a status change is kept (the broker refuses the certificate from then on) and
// drops its open connections; the detaches and the thing's attributes have no local effect.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CertificateRegistry } from './cert-registry.js';
import { verifySigV4 } from '../aws/sigv4.js';

export interface IdentitiesApiOptions {
  readonly registry: CertificateRegistry;
  /** Drops the open connections of a certificate (the broker's). */
  readonly disconnect: (certificateId: string) => void;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  /** `arn:aws:iot:<region>:<account>` of the local certificates. */
  readonly arnPrefix: string;
}

const STATUSES = new Set(['ACTIVE', 'INACTIVE', 'REVOKED']);

export function identitiesApi(o: IdentitiesApiOptions) {
  return async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const principals = /^\/things\/([^/]+)\/principals$/.exec(url.pathname);
    const thing = /^\/things\/([^/]+)$/.exec(url.pathname);
    const certificate = /^\/certificates\/([^/]+)$/.exec(url.pathname);
    const policy = /^\/target-policies\/([^/]+)$/.exec(url.pathname);
    const route =
      (principals && (req.method === 'GET' || req.method === 'DELETE')) ||
      (thing && req.method === 'PATCH') ||
      (certificate && req.method === 'PUT') ||
      (policy && req.method === 'POST');
    if (!route) return false;
    const auth = verifySigV4(
      { method: req.method ?? '', url: req.url ?? '/', headers: req.headersDistinct, body },
      { credentials: o.credentials, region: o.region, service: 'iot' },
    );
    if (!auth.ok) return error(res, 403, 'UnauthorizedException', auth.message);
    const thingName = decodeURIComponent((principals ?? thing)?.[1] ?? '');
    if (thingName && o.registry.ofThing(thingName).length === 0)
      return error(res, 404, 'ResourceNotFoundException', `no thing ${thingName}`);
    if (principals && req.method === 'GET') {
      return send(res, {
        principals: o.registry.ofThing(thingName).map((r) => `${o.arnPrefix}:cert/${r.certificateId}`),
      });
    }
    if (certificate) {
      const certificateId = decodeURIComponent(certificate[1]!);
      const status = url.searchParams.get('newStatus') ?? '';
      if (!STATUSES.has(status))
        return error(res, 400, 'InvalidRequestException', `newStatus: expected ACTIVE, INACTIVE or REVOKED`);
      if (!o.registry.get(certificateId))
        return error(res, 404, 'ResourceNotFoundException', `no certificate ${certificateId}`);
      o.registry.update(certificateId.toLowerCase(), { status: status as 'ACTIVE' | 'INACTIVE' | 'REVOKED' });
      if (status !== 'ACTIVE') o.disconnect(certificateId);
    }
    return send(res, {});
  };
}

function send(res: ServerResponse, body: object): true {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

function error(res: ServerResponse, status: number, type: string, message: string): true {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': type });
  res.end(JSON.stringify({ message }));
  return true;
}
