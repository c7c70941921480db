// Query and path parameters, parsed at the edge: every failure is a ValidationError naming the field.
import { ValidationError } from '../core/contracts/errors.js';
import { circuitIdSchema, parse } from '../core/contracts/schemas.js';
import { THING_NAME } from '../core/contracts/topics.js';

const DAY_MS = 86_400_000;
export const MAX_WINDOW_DAYS = 31;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

type Query = Record<string, string | undefined> | undefined;

export function deviceIdParam(field: string, value: string | undefined): string {
  if (!value || !THING_NAME.test(value))
    throw new ValidationError(field, `${field}: must be a thing name (a-z A-Z 0-9 : _ -)`);
  return value;
}

/** An opaque id (correlationId, dispatch or event id): 1 to 128 characters. */
export function idParam(field: string, value: string | undefined): string {
  if (!value || value.length > 128) throw new ValidationError(field, `${field}: must be 1 to 128 characters`);
  return value;
}

/** The last instant an ISO-8601 year of four digits can name; later times cannot be written back out. */
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** ISO-8601 or epoch seconds → epoch milliseconds, from 1970 to the end of year 9999. */
export function timeParam(field: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const ms = /^\d+(\.\d+)?$/.test(value)
    ? Math.round(Number(value) * 1000)
    : /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
      ? Date.parse(value)
      : NaN;
  if (Number.isNaN(ms)) throw new ValidationError(field, `${field}: must be ISO-8601 or epoch seconds`);
  if (ms < 0 || ms > MAX_TIME_MS)
    throw new ValidationError(field, `${field}: must be between 1970 and the end of 9999`);
  return ms;
}

/** A circuit or load id, by the rule the ingest applies to the ids devices send (schemas.ts). */
export function circuitIdParam(field: string, value: string): string {
  const result = parse(circuitIdSchema, value);
  if (!result.ok) throw new ValidationError(field, `${field}: ${result.message.replace(/^\(root\): /, '')}`);
  return result.value;
}

/** Plain decimal: an optional minus, digits, an optional fraction. No hex, exponent, spaces or signs `Number()` takes. */
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A number written in plain decimal within [min, max] (`integer`: no fraction), or a ValidationError naming `field`. */
export function numberParam(
  field: string,
  value: string | undefined,
  min: number,
  max: number,
  integer = false,
): number {
  const n = value !== undefined && DECIMAL.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new ValidationError(
      field,
      `${field}: must be ${integer ? 'an integer' : 'a decimal number'} from ${min} to ${max}`,
    );
  }
  return n;
}

export function limitParam(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LIMIT;
  return numberParam('limit', value, 1, MAX_LIMIT, true);
}

/** `start`, `end`, `limit`, `next`: the last 24 hours by default, at most 31 days. */
export function rangeParams(query: Query, now = Date.now()) {
  const end = timeParam('end', query?.end, now);
  const start = timeParam('start', query?.start, end - DAY_MS);
  if (start > end) throw new ValidationError('start', 'start: must not be after end');
  if (end - start > MAX_WINDOW_DAYS * DAY_MS)
    throw new ValidationError('start', `start: the window is longer than ${MAX_WINDOW_DAYS} days`);
  return { start, end, limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) };
}

export function booleanParam(field: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ValidationError(field, `${field}: must be true or false`);
}
