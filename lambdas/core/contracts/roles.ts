// Who may call what: three roles from the operator's Cognito groups, each allowing what the one below allows.
// API Gateway's JWT authorizer has checked the token; the handler reads the claims it passes on. The local stack's
// front door builds the very same claims from the dev token presented, so this check is the one that runs there too.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** Lowest first: `viewer` reads, `operator` also commands, dispatches and runs DR events, `admin` also feeds data. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs: a role, or nothing at all (`public`, no token). */
export type Access = Role | 'public';

export interface Caller {
  /** The token's subject (`sub`), the scope of its idempotency keys. */
  readonly subject: string;
  /** The highest role among its groups; undefined when it is in none of them. */
  readonly role?: Role;
}

export const hasRole = (role: Role | undefined, needed: Role): boolean =>
  role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(needed);

const isRole = (group: string): group is Role => (ROLES as readonly string[]).includes(group);

/**
 * `cognito:groups` as it reaches the Lambda: API Gateway HTTP APIs flatten a JWT's array claims to a string,
 * `[admin operator]`; a JSON array (`["admin","operator"]`, as a string or as an array) is taken too, and so is
 * one bare group name. Anything else is no group.
 */
export function groupsClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  if (typeof value !== 'string') return [];
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return groupsClaim(parsed);
    } catch {
      // not JSON: API Gateway's `[a b]`
    }
    return text
      .replace(/^\[|\]$/g, '')
      .split(/[\s,]+/)
      .filter(Boolean);
  }
  return text ? [text] : [];
}

/** The highest role among the groups; groups that are not roles are ignored. */
export function roleOf(groups: readonly string[]): Role | undefined {
  return groups.filter(isRole).sort((a, b) => ROLES.indexOf(b) - ROLES.indexOf(a))[0];
}

type JwtClaims = Record<string, unknown>;

/** The claims API Gateway's JWT authorizer put on the event (ID and access tokens both carry `cognito:groups`). */
export function claimsOf(event: APIGatewayProxyEventV2): JwtClaims | undefined {
  const context = event.requestContext as { authorizer?: { jwt?: { claims?: JwtClaims } } };
  return context.authorizer?.jwt?.claims;
}

export function callerOf(event: APIGatewayProxyEventV2): Caller {
  const claims = claimsOf(event) ?? {};
  const role = roleOf(groupsClaim(claims['cognito:groups']));
  return { subject: typeof claims.sub === 'string' ? claims.sub : '', ...(role && { role }) };
}
