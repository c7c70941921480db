// Request bodies, parsed at the edge: not JSON or not the schema is a ValidationError naming the field.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod';
import { ValidationError } from '../core/errors.js';
import { parse } from '../core/schemas.js';

export function jsonBody(event: APIGatewayProxyEventV2, optional = false): unknown {
  if (!event.body) {
    if (optional) return {};
    throw new ValidationError('body', 'body: a JSON object is required');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('body', 'body: not valid JSON');
  }
}

export function parseBody<T extends z.ZodType>(schema: T, event: APIGatewayProxyEventV2): z.infer<T> {
  const result = parse(schema, jsonBody(event));
  if (!result.ok) throw new ValidationError(result.field, result.message);
  return result.value;
}
