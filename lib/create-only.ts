// Names for resources CloudFormation cannot name itself and cannot update in place.
import { createHash } from 'node:crypto';

/** JSON with its object keys sorted: the same value gives the same text whatever order it was built in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * 8 hex digits of the create-only property values (as the template holds them, in the order given). A name that
 * carries them changes whenever one of them does, so the replacement CloudFormation makes gets a new name instead of
 * failing on the old one ("cannot update a stack when a custom-named resource requires replacing").
 */
export function createOnlyDigest(values: readonly unknown[]): string {
  return createHash('sha256').update(canonical(values)).digest('hex').slice(0, 8);
}
