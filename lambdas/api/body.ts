// Request bodies, parsed at the edge: not JSON, not the schema, nested too deep or holding a number the stores cannot
// keep is a ValidationError naming the field.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod';
import { ValidationError } from '../core/contracts/errors.js';
import { fieldPath, isStorableNumber, MAX_JSON_DEPTH, parse, STORABLE_MESSAGE } from '../core/contracts/schemas.js';

export { MAX_JSON_DEPTH };

export function jsonBody(event: APIGatewayProxyEventV2, optional = false): unknown {
  if (!event.body) {
    if (optional) return {};
    throw new ValidationError('body', 'body: a JSON object is required');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('body', 'body: not valid JSON');
  }
  checkJson(value, []);
  return value;
}

/** The body parsed by `schema`; `optional`: no body reads as `{}`. A failure of the whole body names `body`. */
export function parseBody<T extends z.ZodType>(schema: T, event: APIGatewayProxyEventV2, optional = false): z.infer<T> {
  const result = parse(schema, jsonBody(event, optional));
  if (result.ok) return result.value;
  if (result.field === '(root)') throw new ValidationError('body', `body: ${result.message.slice('(root): '.length)}`);
  throw new ValidationError(result.field, result.message);
}

/** Walks parsed JSON no deeper than MAX_JSON_DEPTH (so neither this nor any later step runs out of stack). */
function checkJson(value: unknown, path: (string | number)[]): void {
  if (typeof value === 'number') {
    if (!isStorableNumber(value)) {
      throw new ValidationError(fieldPath(path), `${fieldPath(path)}: ${STORABLE_MESSAGE}`);
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (path.length >= MAX_JSON_DEPTH) {
    const field = fieldPath(path.slice(0, 1));
    throw new ValidationError(field, `${field}: nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  for (const [key, child] of entries) checkJson(child, [...path, key]);
}
