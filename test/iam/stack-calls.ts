// What a test's local stack does with the AWS calls it recorded when it is disposed: kept in the run's temporary
// folder for the unused-grants report (global teardown), and evaluated against the deployed role policies — a call the
// deployed role would deny fails the test file.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsCall } from '../../bin/local/aws/aws-calls.js';
import { deniedCalls, describeDenied } from './evaluate.js';
import { deployedRolePolicies } from './role-policies.js';

/** The folder of the run's recorded calls, one JSON file per stack: only under the test run's global setup. */
export const callsDir = (runDir = tmpdir()) => join(runDir, 'vpp-aws-calls');

export async function checkStackCalls(calls: readonly AwsCall[]): Promise<void> {
  if (calls.length === 0) return;
  if (process.env.TMPDIR?.includes('vpp-test-run-')) {
    mkdirSync(callsDir(), { recursive: true });
    writeFileSync(join(callsDir(), `${randomUUID()}.json`), JSON.stringify(calls));
  }
  const policies = await deployedRolePolicies();
  const denied = deniedCalls(calls, policies);
  if (denied.length > 0) throw new Error(describeDenied(denied, policies));
}
