// `Idempotency-Key` on the command routes: the same key with the same request within 24 h answers the first
// response again without running it again; with another request, 422. Of concurrent requests with one key exactly
// one runs (a conditional put claims the key); the others wait for its response, or get a 409 if it takes too long.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createHash, randomUUID } from 'node:crypto';
import { ConflictError, UnprocessableError, ValidationError } from '../core/contracts/errors.js';
import { logger } from '../core/common/logger.js';
import type { IdempotencyStore, StoredResponse } from '../core/commands/idempotency-store.js';
import type { Caller } from '../core/contracts/roles.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const HEADER = IDEMPOTENCY_HEADER.toLowerCase();
const KEY = /^[\x21-\x7e]{1,255}$/;
/** A claim whose request has not answered in this long (the API Lambda's timeout) may be taken over by a retry. */
export const STALE_CLAIM_MS = 30_000;
/** How long a concurrent duplicate waits for the first request's response before it gets a 409. */
export const WAIT_FOR_FIRST_MS = 10_000;

export type Response = StoredResponse & { headers?: Record<string, string> };

export async function idempotent(
  event: APIGatewayProxyEventV2,
  caller: Caller,
  store: IdempotencyStore,
  run: () => Promise<Response>,
  waitMs = WAIT_FOR_FIRST_MS,
): Promise<Response> {
  const key = event.headers?.[HEADER];
  if (key === undefined) return run();
  if (!KEY.test(key))
    throw new ValidationError(IDEMPOTENCY_HEADER, `${IDEMPOTENCY_HEADER}: must be 1 to 255 visible ASCII characters`);
  const pk = `${caller.subject}#${key}`;
  const fingerprint = fingerprintOf(event);
  const owner = randomUUID();
  const giveUpAt = Date.now() + waitMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (await store.claim(pk, owner, fingerprint, Date.now(), STALE_CLAIM_MS)) return runClaimed(store, pk, owner, run);
    const claim = await store.get(pk, Date.now());
    if (claim && claim.fingerprint !== fingerprint) {
      throw new UnprocessableError(
        IDEMPOTENCY_HEADER,
        `${IDEMPOTENCY_HEADER}: already used for another request (method, path or body)`,
      );
    }
    if (claim?.response) return { ...claim.response, headers: { 'idempotent-replayed': 'true' } };
    if (Date.now() >= giveUpAt) {
      throw new ConflictError(`${IDEMPOTENCY_HEADER}: the first request with this key is still under way; retry later`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Keeps a success for retries; gives the key up after a failure, which sent nothing, so a retry runs afresh. */
async function runClaimed(
  store: IdempotencyStore,
  pk: string,
  owner: string,
  run: () => Promise<Response>,
): Promise<Response> {
  let response: Response;
  try {
    response = await run();
  } catch (err) {
    await store.release(pk, owner).catch((e: Error) => logger.error('idempotency key not released', { error: e }));
    throw err;
  }
  const { statusCode, body } = response;
  // A store failure now must not turn a command that left into an error the client would retry.
  const keep = statusCode < 300 ? store.complete(pk, owner, { statusCode, body }) : store.release(pk, owner);
  await keep.catch((e: Error) => logger.error('idempotency key not updated', { error: e }));
  return response;
}

/** The request a key stands for: method, path and body, byte for byte. */
function fingerprintOf(event: APIGatewayProxyEventV2): string {
  const body =
    event.body === undefined
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return createHash('sha256')
    .update(`${event.requestContext.http.method} ${event.rawPath}\n`)
    .update(body)
    .digest('base64url');
}
