// The local IoT Jobs service over the local DynamoDB: which execution is next, who is notified, and which updates
// it refuses (AWS IoT Jobs' MQTT API semantics).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../lambdas/core/adapters.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { ensureTables, startDynamo } from '../../bin/local/aws/dynamodb.js';
import { JobsService } from '../../bin/local/device-services/jobs-service.js';
import { DynamoJobsStore, JOBS_TABLE } from '../../bin/local/device-services/jobs-store-dynamodb.js';
import { tempDir } from '../device/helpers.js';
import { eventually } from '../e2e/helpers.js';

const THING = 'ven-001';
type Sent = { topic: string; body: Record<string, any> };

describe('given the local Jobs service', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  let jobs: JobsService;
  const sent: Sent[] = [];
  let clock = 1_700_000_000_000;
  const doc = (v: string) => ({ operation: 'agent-update', version: v });
  const request = (jobId: string, op: 'get' | 'update', body: object) =>
    jobs.onMessage(topics.jobs(THING, `${jobId}/${op}`), Buffer.from(JSON.stringify(body)));
  const last = (topic: string) => sent.filter((s) => s.topic === topic).at(-1)?.body;
  const notify = topics.jobs(THING, 'notify-next');

  beforeAll(async () => {
    dir = await tempDir('vpp-jobs-');
    dynamo = await startDynamo(dir.path);
    await ensureTables(dynamo.client, { jobs: { env: 'JOBS_TABLE', ...JOBS_TABLE } });
    jobs = new JobsService({
      publish: async (topic, payload) => void sent.push({ topic, body: JSON.parse(payload) }),
      store: new DynamoJobsStore(documentClient(dynamo.client), 'jobs'),
      now: () => (clock += 1000),
    });
  });
  afterAll(async () => {
    await dynamo?.close();
    await dir?.remove();
  });

  it('when two jobs are queued, then the device is told of the first only, and $next is the oldest', async () => {
    await jobs.createJob({ jobId: 'job-a', document: doc('1.1.0'), targets: [THING] });
    await jobs.createJob({ jobId: 'job-b', document: doc('1.2.0'), targets: [THING] });
    expect(sent.filter((s) => s.topic === notify).map((s) => s.body.execution?.jobId)).toEqual(['job-a']);
    await request('$next', 'get', { clientToken: 't1' });
    expect(last(topics.jobs(THING, '$next/get/accepted'))).toMatchObject({
      clientToken: 't1',
      execution: { jobId: 'job-a', thingName: THING, status: 'QUEUED', jobDocument: doc('1.1.0'), versionNumber: 1 },
    });
    await expect(jobs.createJob({ jobId: 'job-a', document: {}, targets: [THING] })).rejects.toThrow(/already exists/);
  });

  it('when the device finishes one, then the update is accepted and it is told of the next', async () => {
    await request('job-a', 'update', { status: 'IN_PROGRESS', clientToken: 't2' });
    await request('job-a', 'update', { status: 'SUCCEEDED', statusDetails: { version: '1.1.0' }, expectedVersion: 2 });
    expect(last(topics.jobs(THING, 'job-a/update/accepted'))).toMatchObject({
      executionState: { status: 'SUCCEEDED', versionNumber: 3, statusDetails: { version: '1.1.0' } },
    });
    expect(last(notify)).toMatchObject({ execution: { jobId: 'job-b', status: 'QUEUED' } });
    // a job's status is summed from its executions by an index query (eventually consistent, as AWS's DescribeJob lags too)
    const status = await eventually(async () => {
      const job = await jobs.jobStatus('job-a');
      return job?.counts.SUCCEEDED === 1 && job;
    });
    expect(status).toMatchObject({ status: 'COMPLETED', counts: { SUCCEEDED: 1 } });
  });

  it("when an update is out of turn, malformed or for no execution, then it is rejected with IoT's code and nothing changes", async () => {
    await request('job-a', 'update', { status: 'FAILED', clientToken: 'late' });
    expect(last(topics.jobs(THING, 'job-a/update/rejected'))).toMatchObject({
      code: 'InvalidStateTransition',
      clientToken: 'late',
    });
    await request('job-b', 'update', { status: 'IN_PROGRESS', expectedVersion: 7 });
    expect(last(topics.jobs(THING, 'job-b/update/rejected'))).toMatchObject({ code: 'VersionMismatch' });
    await request('job-b', 'update', { status: 'QUEUED' });
    expect(last(topics.jobs(THING, 'job-b/update/rejected'))).toMatchObject({
      code: 'InvalidRequest',
      message: expect.stringContaining('status'),
    });
    await request('job-z', 'update', { status: 'SUCCEEDED' });
    expect(last(topics.jobs(THING, 'job-z/update/rejected'))).toMatchObject({ code: 'ResourceNotFound' });
    expect(await jobs.describeExecution(THING, 'job-a')).toMatchObject({ status: 'SUCCEEDED', versionNumber: 3 });
    expect(await jobs.describeExecution(THING, 'job-b')).toMatchObject({ status: 'QUEUED', versionNumber: 1 });
  });

  it('when the last job ends, then the device is told there is none', async () => {
    await request('job-b', 'update', { status: 'FAILED', statusDetails: { reason: 'x' } });
    expect(last(notify)).not.toHaveProperty('execution');
    await request('$next', 'get', {});
    expect(last(topics.jobs(THING, '$next/get/accepted'))).not.toHaveProperty('execution');
  });
});
