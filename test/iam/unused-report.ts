// The grants no test used: every (function, action, resource) an Allow statement of a deployed function's role gives
// that no call recorded in the run's local stacks matched, each marked justified when test/iam/unused-grants.yaml
// gives it a reason. Printed and written at the end of a test run (test/global-setup.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AwsCall } from '../../bin/local/aws/aws-calls.js';
import { actionMatches, readableResource, unusedGrants } from './evaluate.js';
import type { RolePolicies } from './role-policies.js';
import { callsDir } from './stack-calls.js';

export interface Justification {
  /** Function name, action and resource (as the report writes it); `*` and `?` match as in IAM. */
  readonly fn: string;
  readonly action: string;
  readonly resource: string;
  readonly reason: string;
}

export interface UnusedGrant {
  /** The statement that gives it (`<policy logical id>[<index>]`). */
  readonly statement: string;
  readonly fn: string;
  readonly action: string;
  readonly resource: string;
  readonly reason?: string;
}

export const JUSTIFICATIONS_FILE = new URL('./unused-grants.yaml', import.meta.url);

export function loadJustifications(file: URL | string = JUSTIFICATIONS_FILE): Justification[] {
  const entries = (parse(readFileSync(file, 'utf8')) ?? []) as Justification[];
  entries.forEach((e, i) => {
    for (const key of ['fn', 'action', 'resource', 'reason'] as const) {
      if (typeof e[key] !== 'string' || !e[key]) throw new Error(`${String(file)}: entry ${i + 1}: ${key} is required`);
    }
  });
  return entries;
}

const wildcard = (pattern: string, value: string) => actionMatches(pattern, value);

/** The run's unused grants, each with the reason that justifies it if any. */
export function unusedGrantsReport(
  calls: readonly AwsCall[],
  policies: RolePolicies,
  justifications: readonly Justification[],
): UnusedGrant[] {
  return unusedGrants(calls, policies).map((g) => {
    const resource = readableResource(g.resource, policies[g.fn]);
    const why = justifications.find(
      (j) => wildcard(j.fn, g.fn) && wildcard(j.action, g.action) && wildcard(j.resource, resource),
    );
    return { statement: g.statement, fn: g.fn, action: g.action, resource, ...(why && { reason: why.reason }) };
  });
}

/** Every call recorded by the run's local stacks (one file per stack). */
export function runCalls(runDir: string): AwsCall[] {
  const dir = callsDir(runDir);
  if (!existsSync(dir)) return [];
  const seen = new Map<string, AwsCall>();
  for (const file of readdirSync(dir)) {
    for (const c of JSON.parse(readFileSync(join(dir, file), 'utf8')) as AwsCall[])
      seen.set(`${c.fn} ${c.action} ${c.resource}`, c);
  }
  return [...seen.values()];
}

export function formatReport(
  calls: readonly AwsCall[],
  policies: RolePolicies,
  report: readonly UnusedGrant[],
): string {
  const allows = Object.values(policies).flatMap((p) => p.statements.filter((s) => s.effect === 'Allow'));
  const grants = allows.reduce((m, s) => m + (s.actions?.length ?? 0) * (s.resources?.length ?? 0), 0);
  const unusedOf = new Map<string, number>();
  for (const g of report) unusedOf.set(g.statement, (unusedOf.get(g.statement) ?? 0) + 1);
  const usedStatements = allows.filter(
    (s) => (unusedOf.get(s.id) ?? 0) < (s.actions?.length ?? 0) * (s.resources?.length ?? 0),
  ).length;
  const unjustified = report.filter((g) => !g.reason);
  const line = (g: UnusedGrant) => `  ${g.fn}  ${g.action}  ${g.resource}${g.reason ? `  — ${g.reason}` : ''}`;
  return [
    `IAM: ${calls.length} distinct AWS calls recorded; ${grants} grants (function × action × resource), ${grants - report.length} used, ${report.length} unused (${unjustified.length} without a reason in test/iam/unused-grants.yaml); ${usedStatements} of ${allows.length} Allow statements used.`,
    ...(unjustified.length > 0 ? ['Unused, no reason given:', ...unjustified.map(line)] : []),
    ...(report.length > unjustified.length
      ? ['Unused, with a reason:', ...report.filter((g) => g.reason).map(line)]
      : []),
  ].join('\n');
}
