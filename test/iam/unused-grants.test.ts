// Least privilege as a failing test: every grant of a deployed function's role must have been used by a call the local
// stack recorded (test/iam/used-grants.txt, written by the test runs: docs/develop-iam-checks.md) or be justified in
// test/iam/unused-grants.yaml. A grant added to lib/ that no test's call uses fails here, as does a stale record line.
import { beforeAll, describe, expect, it } from 'vitest';
import { deployedRolePolicies, type RolePolicies } from './role-policies.js';
import {
  grantLines,
  loadJustifications,
  readUsedGrants,
  refreshedUsedGrants,
  unexplainedGrants,
  type Justification,
} from './unused-report.js';
import { actionMatches, grantsOf, readableResource } from './evaluate.js';

let policies: RolePolicies;
let justifications: Justification[];
let used: string[];

beforeAll(async () => {
  policies = await deployedRolePolicies();
  justifications = loadJustifications();
  used = readUsedGrants();
}, 300_000);

describe('the deployed functions grant only what the local runs use', () => {
  it('every grant is used by a recorded call (used-grants.txt) or justified (unused-grants.yaml)', () => {
    const unexplained = unexplainedGrants(policies, used, justifications);
    expect(
      unexplained.map((g) => g.line),
      `${unexplained.length} grant(s) no recorded call uses and no reason explains: remove each from lib/, add a test ` +
        'whose call uses it (the run adds it to test/iam/used-grants.txt), or justify it in test/iam/unused-grants.yaml',
    ).toEqual([]);
  });

  it('every line of used-grants.txt is a grant of today’s policies', () => {
    const grants = new Set(grantLines(policies));
    expect(
      used.filter((l) => !grants.has(l)),
      'not granted any more: a whole green `npm test` rewrites the file; or delete the lines',
    ).toEqual([]);
  });

  it('every justification explains a grant that exists', () => {
    const grants = grantsOf(policies).map((g) => ({ ...g, resource: readableResource(g.resource, policies[g.fn]) }));
    const glob = actionMatches; // IAM wildcards, case-insensitive
    const idle = justifications.filter(
      (j) => !grants.some((g) => glob(j.fn, g.fn) && glob(j.action, g.action) && glob(j.resource, g.resource)),
    );
    expect(
      idle.map((j) => `${j.fn} ${j.action} ${j.resource}`),
      'no grant left to justify: delete it',
    ).toEqual([]);
  });
});

describe('the record a run leaves', () => {
  it('a partial run only adds the grants its calls used; a whole green run rewrites it from its calls alone', () => {
    const recorded = ['api  dynamodb:GetItem  t', 'api  dynamodb:Scan  t'];
    expect(refreshedUsedGrants(recorded, ['api  dynamodb:PutItem  t'], false)).toEqual([
      'api  dynamodb:GetItem  t',
      'api  dynamodb:PutItem  t',
      'api  dynamodb:Scan  t',
    ]);
    expect(refreshedUsedGrants(recorded, ['api  dynamodb:PutItem  t'], true)).toEqual(['api  dynamodb:PutItem  t']);
  });
});
