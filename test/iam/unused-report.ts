// The grants no test used: every (function, action, resource) an Allow statement of a deployed function's role gives
// that no call recorded in the run's local stacks matched, each marked justified when test/iam/unused-grants.yaml
// gives it a reason. Printed and written at the end of a test run (test/global-setup.ts).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AwsCall } from '../../bin/local/aws/aws-calls.js';
import { actionMatches, grantsOf, readableResource, unusedGrants } from './evaluate.js';
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

/**
 * The grants a run's recorded calls used, one `function  action  resource` line each (the resource as the report
 * writes it). Committed as test/iam/used-grants.txt: test/iam/unused-grants.test.ts fails on any grant of today's
 * synthesized policies that is neither on it nor justified in unused-grants.yaml.
 */
export const USED_GRANTS_FILE = new URL('./used-grants.txt', import.meta.url);

const USED_GRANTS_HEADER = [
  '# The grants of the deployed functions that a recorded AWS call of the local stack used (docs/develop-iam-checks.md).',
  '# Written by the test run: a run adds the grants its calls used; a whole green `npm test` rewrites it from its calls',
  '# alone, so a grant no call uses any more drops off. Commit it with the change that made it move.',
];

export const grantLine = (g: { fn: string; action: string; resource: string }) => `${g.fn}  ${g.action}  ${g.resource}`;

/** Every grant of the policies as a line, sorted. */
export function grantLines(policies: RolePolicies): string[] {
  const lines = grantsOf(policies).map((g) =>
    grantLine({ ...g, resource: readableResource(g.resource, policies[g.fn]) }),
  );
  return [...new Set(lines)].sort();
}

/** The grants the calls used, as lines. */
export function usedGrantLines(calls: readonly AwsCall[], policies: RolePolicies): string[] {
  const unused = new Set(
    unusedGrants(calls, policies).map((g) =>
      grantLine({ ...g, resource: readableResource(g.resource, policies[g.fn]) }),
    ),
  );
  // a grant given twice (two statements) is used if either copy is
  const used = new Set(
    grantsOf(policies)
      .map((g) => grantLine({ ...g, resource: readableResource(g.resource, policies[g.fn]) }))
      .filter((l) => !unused.has(l)),
  );
  return [...used].sort();
}

export function readUsedGrants(file: URL | string = USED_GRANTS_FILE): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

export function writeUsedGrants(lines: readonly string[], file: URL | string = USED_GRANTS_FILE): void {
  writeFileSync(file, [...USED_GRANTS_HEADER, ...[...new Set(lines)].sort()].join('\n') + '\n');
}

/**
 * The record after a run: with a whole green run, exactly the grants its calls used; otherwise the record as it was
 * plus the grants this run's calls used (a partial run proves use, never disuse).
 */
export function refreshedUsedGrants(recorded: readonly string[], used: readonly string[], wholeGreenRun: boolean) {
  return [...new Set(wholeGreenRun ? used : [...recorded, ...used])].sort();
}

/** The grants of today's policies that the record does not show used and no justification explains. */
export function unexplainedGrants(
  policies: RolePolicies,
  used: readonly string[],
  justifications: readonly Justification[],
): { line: string; statement: string }[] {
  const seen = new Set(used);
  return grantsOf(policies)
    .map((g) => {
      const resource = readableResource(g.resource, policies[g.fn]);
      return { g, resource, line: grantLine({ ...g, resource }) };
    })
    .filter(({ line }) => !seen.has(line))
    .filter(
      ({ g, resource }) =>
        !justifications.some(
          (j) => wildcard(j.fn, g.fn) && wildcard(j.action, g.action) && wildcard(j.resource, resource),
        ),
    )
    .map(({ g, line }) => ({ line, statement: g.statement }));
}
