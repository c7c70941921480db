// Opaque pagination tokens: base64url JSON. A token that does not decode is a 400 on `next`.
import { ValidationError } from './errors.js';

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken<T extends object>(token: string): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (value && typeof value === 'object') return value as T;
  } catch {
    // falls through to the error below
  }
  throw new ValidationError('next', 'next: not a page token this API issued');
}
