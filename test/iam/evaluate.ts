// Evaluates the AWS calls the local stack recorded (bin/local/aws/aws-calls.ts) against the synthesized role policy of the
// function that made each, as IAM does for an identity policy alone: an explicit Deny wins, then an Allow whose
// actions and resources match with IAM's wildcards (`*`, `?`); otherwise the implicit deny. Conditions are not
// evaluated: a statement with one is taken as written and the call is listed with it.
import type { AwsCall } from '../../bin/local/aws/aws-calls.js';
import type { FunctionPolicy, RolePolicies, Statement } from './role-policies.js';

export interface Verdict {
  readonly call: AwsCall;
  /** The resource with the function's environment resolved (`${env:DEVICES_TABLE}` → `${StorageDevices…}`). */
  readonly resource: string;
  readonly allowed: boolean;
  readonly why: string;
  /** Statements with a Condition that matched the call: their conditions were not evaluated. */
  readonly unevaluatedConditions: string[];
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string, flags = ''): RegExp {
  const key = `${flags}/${pattern}`;
  let re = globCache.get(key);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    globCache.set(key, (re = new RegExp(`^${body}$`, flags)));
  }
  return re;
}

/** Action names are case-insensitive. */
export const actionMatches = (pattern: string, action: string) => glob(pattern, 'i').test(action);

/** IAM matches an ARN segment by segment (partition, service, region, account), then the rest; `*` alone matches all. */
export function resourceMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = pattern.split(':');
  const a = arn.split(':');
  if (p.length < 6 || a.length < 6) return glob(pattern).test(arn);
  for (let i = 0; i < 5; i++) if (!glob(p[i]!).test(a[i]!)) return false;
  return glob(p.slice(5).join(':')).test(a.slice(5).join(':'));
}

function applies(st: Statement, action: string, resource: string): boolean {
  const actionOk = st.actions
    ? st.actions.some((p) => actionMatches(p, action))
    : !st.notActions!.some((p) => actionMatches(p, action));
  if (!actionOk) return false;
  return st.resources
    ? st.resources.some((p) => resourceMatches(p, resource))
    : !st.notResources!.some((p) => resourceMatches(p, resource));
}

/** `${env:NAME}` as the deployed function's environment has it; undefined when it has no such variable. */
export function resolveEnvironment(resource: string, policy: FunctionPolicy): string | { missing: string } {
  let missing: string | undefined;
  const resolved = resource.replace(/\$\{env:([A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = policy.environment[name];
    if (value === undefined) missing ??= name;
    // a queue's Ref is its URL; the recorded ARN wants its name, which the Ref form `${Queue}` stands for
    return value ?? '';
  });
  return missing ? { missing } : resolved;
}

export function evaluate(call: AwsCall, policies: RolePolicies): Verdict {
  const policy = policies[call.fn];
  const base = { call, resource: call.resource, unevaluatedConditions: [] as string[] };
  if (!policy) return { ...base, allowed: false, why: `no deployed function ${call.fn} in the template` };
  const resource = resolveEnvironment(call.resource, policy);
  if (typeof resource !== 'string') {
    return { ...base, allowed: false, why: `the deployed function has no ${resource.missing} in its environment` };
  }
  const matching = policy.statements.filter((st) => applies(st, call.action, resource));
  const conditional = matching
    .filter((st) => st.condition !== undefined)
    .map((st) => `${st.id} ${JSON.stringify(st.condition)}`);
  const verdict = { ...base, resource, unevaluatedConditions: conditional };
  const deny = matching.find((st) => st.effect === 'Deny' && st.condition === undefined);
  if (deny) return { ...verdict, allowed: false, why: `explicitly denied by ${deny.id}` };
  const allow = matching.find((st) => st.effect === 'Allow');
  if (allow) return { ...verdict, allowed: true, why: `allowed by ${allow.id}` };
  const sameAction = policy.statements
    .filter((st) => st.effect === 'Allow' && st.actions?.some((p) => actionMatches(p, call.action)))
    .flatMap((st) => st.resources ?? []);
  return {
    ...verdict,
    allowed: false,
    why:
      sameAction.length > 0
        ? `${call.action} is granted only on ${[...new Set(sameAction)].join(', ')}`
        : `no statement grants ${call.action}`,
  };
}

/** Every denied call, one line each: function, action, resource, why. */
export function deniedCalls(calls: readonly AwsCall[], policies: RolePolicies): Verdict[] {
  return calls.map((c) => evaluate(c, policies)).filter((v) => !v.allowed);
}

export function describeDenied(denied: readonly Verdict[], policies: RolePolicies): string {
  return [
    `${denied.length} AWS call(s) made in this test would be denied by the deployed function's IAM policy:`,
    ...denied.map(
      (v) => `  ${v.call.fn}: ${v.call.action} on ${v.call.resource} — ${readableResource(v.why, policies[v.call.fn])}`,
    ),
  ].join('\n');
}

/** One grant: a function's action pattern on one resource pattern, as one Allow statement gives it. */
export interface Grant {
  readonly fn: string;
  readonly action: string;
  readonly resource: string;
  readonly statement: string;
}

/** Every (action × resource) an Allow statement of a function grants. NotAction/NotResource grants are skipped (none here). */
export function grantsOf(policies: RolePolicies): Grant[] {
  return Object.entries(policies).flatMap(([fn, p]) =>
    p.statements
      .filter((st) => st.effect === 'Allow' && st.actions && st.resources)
      .flatMap((st) =>
        st.actions!.flatMap((action) => st.resources!.map((resource) => ({ fn, action, resource, statement: st.id }))),
      ),
  );
}

/** The grants no recorded call used. */
export function unusedGrants(calls: readonly AwsCall[], policies: RolePolicies): Grant[] {
  const resolved = calls.map((c) => {
    const p = policies[c.fn];
    const r = p && resolveEnvironment(c.resource, p);
    return { fn: c.fn, action: c.action, resource: typeof r === 'string' ? r : undefined };
  });
  return grantsOf(policies).filter(
    (g) =>
      !resolved.some(
        (c) =>
          c.fn === g.fn &&
          c.resource !== undefined &&
          actionMatches(g.action, c.action) &&
          resourceMatches(g.resource, c.resource),
      ),
  );
}

/** A grant's resource as a reader knows it: a name the function's environment holds as `${env:NAME}`, CDK's hash suffix dropped. */
export function readableResource(resource: string, policy: FunctionPolicy | undefined): string {
  const byValue = new Map(Object.entries(policy?.environment ?? {}).map(([k, v]) => [v, k]));
  return resource.replace(/\$\{([A-Za-z0-9]+)\}/g, (whole, id: string) => {
    const env = byValue.get(whole);
    return env ? `\${env:${env}}` : `\${${id.replace(/[0-9A-F]{8}$/, '')}}`;
  });
}
