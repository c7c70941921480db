// The unused-grants report: a grant no recorded call used is listed, marked justified when unused-grants.yaml gives
// it a reason (IAM wildcards on function, action and the resource as the report writes it).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport, loadJustifications, unusedGrantsReport } from './unused-report.js';
import type { RolePolicies } from './role-policies.js';

const policies: RolePolicies = {
  metering: {
    environment: { TIMESERIES_TABLE: '${Timeseries0A1B2C3D}' },
    managedPolicies: [],
    statements: [
      {
        id: 'P[0]',
        effect: 'Allow',
        actions: ['dynamodb:PutItem', 'dynamodb:Scan'],
        resources: ['arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Timeseries0A1B2C3D}'],
      },
      {
        id: 'P[1]',
        effect: 'Allow',
        actions: ['logs:PutLogEvents'],
        resources: ['arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:${MeteringLogs9F8E7D6C}:*'],
      },
    ],
  },
};

describe('the unused-grants report', () => {
  it('lists what no call used, readable, with the reason that justifies it or none', () => {
    const calls = [
      {
        fn: 'metering' as const,
        action: 'dynamodb:PutItem',
        resource: 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${env:TIMESERIES_TABLE}',
      },
    ];
    const report = unusedGrantsReport(calls, policies, [
      { fn: '*', action: 'logs:*', resource: '*log-group:${MeteringLogs}:*', reason: 'the runtime writes the logs' },
    ]);
    expect(report).toEqual([
      {
        statement: 'P[0]',
        fn: 'metering',
        action: 'dynamodb:Scan',
        resource: 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${env:TIMESERIES_TABLE}',
      },
      {
        statement: 'P[1]',
        fn: 'metering',
        action: 'logs:PutLogEvents',
        resource: 'arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:${MeteringLogs}:*',
        reason: 'the runtime writes the logs',
      },
    ]);
    expect(formatReport(calls, policies, report).split('\n')[0]).toBe(
      'IAM: 1 distinct AWS calls recorded; 3 grants (function × action × resource), 1 used, 2 unused (1 without a reason in test/iam/unused-grants.yaml); 1 of 2 Allow statements used.',
    );
  });

  it('keeps a reason on every justification, naming the entry that lacks one', () => {
    expect(loadJustifications().every((j) => j.reason.length > 10)).toBe(true);
    const file = join(tmpdir(), `unused-grants-${process.pid}.yaml`);
    writeFileSync(file, "- fn: api\n  action: 'iot:*'\n  resource: '*'\n");
    expect(() => loadJustifications(file)).toThrow(/entry 1: reason is required/);
  });
});
