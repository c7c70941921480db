// AWS Signature Version 4 verification for the local data-plane API, as the AWS SDKs and the AWS CLI sign
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  readonly method: string;
  /** The request target as received: path and query, still percent-encoded. */
  readonly url: string;
  /** Lower-case names; repeated headers as arrays (`IncomingMessage.headersDistinct`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
}

export interface VerifyOptions {
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  readonly service: string;
  /** Epoch milliseconds. */
  readonly now?: number;
}

/** `code`: the error code the service answers with (S3's XML `<Code>`). */
export type VerifyResult = { ok: true } | { ok: false; message: string; code: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;

interface Authorization {
  accessKeyId: string;
  scope: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function verifySigV4(req: SignedRequest, opts: VerifyOptions): VerifyResult {
  const auth = parseAuthorization(header(req, 'authorization'));
  if (!auth) return fail('Missing or malformed SigV4 Authorization header', 'AccessDenied');
  const amzDate = header(req, 'x-amz-date') ?? '';
  const time = parseAmzDate(amzDate);
  if (time === undefined) return fail('Missing or malformed X-Amz-Date header', 'AccessDenied');
  if (Math.abs((opts.now ?? Date.now()) - time) > MAX_SKEW_MS) {
    return fail('Signature expired: X-Amz-Date is more than 15 minutes off', 'RequestTimeTooSkewed');
  }
  const scopeError = checkScope(auth, amzDate, opts);
  if (scopeError) return scopeError;
  const payloadHash = payloadHashOf(req);
  if (!payloadHash) return fail('X-Amz-Content-Sha256 does not match the body', 'XAmzContentSHA256Mismatch');
  if (!signatureMatches(req, auth, amzDate, payloadHash, opts)) {
    return fail(
      'The request signature we calculated does not match the signature you provided',
      'SignatureDoesNotMatch',
    );
  }
  return { ok: true };
}

/** The most a presigned URL may live: a week (S3's limit for SigV4 query signatures). */
export const MAX_PRESIGNED_EXPIRES_SEC = 604_800;

/**
 * A request signed in its query string (a presigned URL), as S3 checks one
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html): the signature over the canonical
 * request without X-Amz-Signature and with an unsigned payload, and the link refused once X-Amz-Date + X-Amz-Expires
 * has passed.
 */
export function verifyPresigned(req: SignedRequest, opts: VerifyOptions): VerifyResult {
  const params = new URLSearchParams(splitTarget(req.url)[1]);
  const get = (name: string) => params.get(name) ?? undefined;
  if (get('X-Amz-Algorithm') !== ALGORITHM)
    return fail(`X-Amz-Algorithm only supports "${ALGORITHM}"`, 'AuthorizationQueryParametersError');
  const credential = (get('X-Amz-Credential') ?? '').split('/');
  const signedHeaders = (get('X-Amz-SignedHeaders') ?? '').split(';');
  const signature = get('X-Amz-Signature') ?? '';
  const amzDate = get('X-Amz-Date') ?? '';
  const time = parseAmzDate(amzDate);
  const expires = Number(get('X-Amz-Expires'));
  if (credential.length !== 5 || !/^[0-9a-f]{64}$/.test(signature) || time === undefined) {
    return fail(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      'AuthorizationQueryParametersError',
    );
  }
  if (!Number.isInteger(expires) || expires < 1)
    return fail('X-Amz-Expires should be a number', 'AuthorizationQueryParametersError');
  if (expires > MAX_PRESIGNED_EXPIRES_SEC) {
    return fail(
      `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SEC}`,
      'AuthorizationQueryParametersError',
    );
  }
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  const auth: Authorization = {
    accessKeyId,
    scope: credential.slice(1).join('/'),
    date,
    region,
    service,
    signedHeaders,
    signature,
  };
  const scopeError = checkScope(auth, amzDate, opts);
  if (scopeError) return scopeError;
  if (!signatureMatches(req, auth, amzDate, 'UNSIGNED-PAYLOAD', opts)) {
    return fail(
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      'SignatureDoesNotMatch',
    );
  }
  if ((opts.now ?? Date.now()) > time + expires * 1000) return fail('Request has expired', 'AccessDenied');
  return { ok: true };
}

function signatureMatches(
  req: SignedRequest,
  auth: Authorization,
  amzDate: string,
  payloadHash: string,
  opts: VerifyOptions,
) {
  const canonical = canonicalRequest(req, auth.signedHeaders, payloadHash, opts.service === 's3');
  const stringToSign = [ALGORITHM, amzDate, auth.scope, sha256(canonical)].join('\n');
  const key = signingKey(opts.credentials.secretAccessKey, auth.date, auth.region, auth.service);
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(auth.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const fail = (message: string, code: string): VerifyResult => ({ ok: false, message, code });

function parseAuthorization(value: string | undefined): Authorization | undefined {
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
    value?.trim() ?? '',
  );
  if (!m) return undefined;
  const parts = m[1]!.split('/');
  if (parts.length !== 5) return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string, string];
  return {
    accessKeyId,
    scope: parts.slice(1).join('/'),
    date,
    region,
    service,
    signedHeaders: m[2]!.split(';'),
    signature: m[3]!,
  };
}

function checkScope(auth: Authorization, amzDate: string, opts: VerifyOptions): VerifyResult | undefined {
  if (auth.accessKeyId !== opts.credentials.accessKeyId)
    return fail('The security token included in the request is invalid', 'InvalidAccessKeyId');
  const malformed = (message: string) => fail(message, 'AuthorizationHeaderMalformed');
  if (!auth.scope.endsWith('/aws4_request')) return malformed('Credential scope must end with aws4_request');
  if (auth.date !== amzDate.slice(0, 8)) return malformed('Credential scope date does not match X-Amz-Date');
  if (auth.region !== opts.region) return malformed(`Credential should be scoped to region '${opts.region}'`);
  if (auth.service !== opts.service) return malformed(`Credential should be scoped to service '${opts.service}'`);
  if (!auth.signedHeaders.includes('host')) return fail('SignedHeaders must include host', 'AccessDenied');
  return undefined;
}

/** `20240102T030405Z` → epoch ms. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Payloads signed as not signed: the body is not hashed (S3's streaming uploads carry a checksum trailer instead). */
const UNSIGNED_PAYLOADS = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);

/** The client's declared payload hash, if it matches the body; undefined when it does not. */
function payloadHashOf(req: SignedRequest): string | undefined {
  const declared = header(req, 'x-amz-content-sha256');
  if (declared !== undefined && UNSIGNED_PAYLOADS.has(declared)) return declared;
  const actual = sha256(req.body);
  if (declared === undefined) return actual;
  return declared === actual ? declared : undefined;
}

/** S3 signs the path as it travels (encoded once, not normalized); the other services encode it once more. */
function canonicalRequest(
  req: SignedRequest,
  signedHeaders: readonly string[],
  payloadHash: string,
  s3 = false,
): string {
  const [path = '', query = ''] = splitTarget(req.url);
  const headers = signedHeaders.map((name) => `${name}:${canonicalHeaderValue(req.headers[name])}\n`).join('');
  return [
    req.method.toUpperCase(),
    s3 ? path || '/' : canonicalPath(path),
    canonicalQuery(query),
    headers,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

function splitTarget(url: string): [string, string] {
  const i = url.indexOf('?');
  return i < 0 ? [url, ''] : [url.slice(0, i), url.slice(i + 1)];
}

/** Non-S3 services sign the path encoded once more than it travels, with dot and empty segments removed. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

function canonicalQuery(query: string): string {
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const i = pair.indexOf('=');
      const [key, value] = i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
      return [uriEncode(safeDecode(key)), uriEncode(safeDecode(value))] as const;
    })
    .filter(([key]) => key.toLowerCase() !== 'x-amz-signature')
    .sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  const values = typeof value === 'string' ? [value] : (value ?? []);
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

/** RFC 3986: everything but unreserved characters is percent-encoded. */
const uriEncode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function header(req: SignedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}
