// The local IoT Jobs service, as AWS IoT Jobs' device MQTT API
// (https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html): a job queues one execution per target
// thing; a device reads its next execution (`$next/get`), is told when it changes (`notify-next`) and moves it along
// (`{jobId}/update` → accepted/rejected). Executions live in the local DynamoDB (jobs-store-dynamodb.ts).
import {
  jobUpdateRequestSchema,
  TERMINAL_STATUSES,
  type JobExecution,
  type JobExecutionStatus,
} from '../../../lambdas/core/contracts/agent-update.js';
import { parse } from '../../../lambdas/core/contracts/schemas.js';
import { parseJobsTopic, topics } from '../../../lambdas/core/contracts/topics.js';

export interface JobRecord {
  readonly jobId: string;
  readonly document: unknown;
  readonly targets: readonly string[];
  readonly description?: string;
  readonly createdAt: number;
}

export interface JobsStore {
  putJob(job: JobRecord): Promise<boolean>;
  getJob(jobId: string): Promise<JobRecord | undefined>;
  putExecution(execution: JobExecution): Promise<void>;
  /** Only if it is still at `versionNumber` (one writer wins). */
  replaceExecution(execution: JobExecution, versionNumber: number): Promise<boolean>;
  getExecution(thingName: string, jobId: string): Promise<JobExecution | undefined>;
  executionsOfThing(thingName: string): Promise<JobExecution[]>;
  executionsOfJob(jobId: string): Promise<JobExecution[]>;
}

export interface JobsServiceOptions {
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  store: JobsStore;
  /** Epoch milliseconds. */
  now?: () => number;
}

export class JobExistsError extends Error {}

const isPending = (e: JobExecution) => e.status === 'QUEUED' || e.status === 'IN_PROGRESS';
/** IN_PROGRESS first, then the oldest queued, as AWS IoT picks the next execution. */
const nextOf = (executions: JobExecution[]) =>
  executions
    .filter(isPending)
    .sort(
      (a, b) => Number(b.status === 'IN_PROGRESS') - Number(a.status === 'IN_PROGRESS') || a.queuedAt - b.queuedAt,
    )[0];

export class JobsService {
  constructor(private readonly o: JobsServiceOptions) {}

  private seconds(): number {
    return Math.floor((this.o.now ?? Date.now)() / 1000);
  }

  /** CreateJob: one QUEUED execution per target; each target whose next execution this becomes is notified. */
  async createJob(job: Omit<JobRecord, 'createdAt'>): Promise<JobRecord> {
    const record: JobRecord = { ...job, createdAt: this.seconds() };
    if (!(await this.o.store.putJob(record))) throw new JobExistsError(`job ${job.jobId} already exists`);
    for (const thingName of new Set(job.targets)) {
      const before = nextOf(await this.o.store.executionsOfThing(thingName));
      const now = this.seconds();
      await this.o.store.putExecution({
        jobId: job.jobId,
        thingName,
        status: 'QUEUED',
        jobDocument: job.document,
        queuedAt: now,
        lastUpdatedAt: now,
        versionNumber: 1,
        executionNumber: 1,
      });
      if (!before) await this.notifyNext(thingName);
    }
    return record;
  }

  /** Called for every publish the broker accepts; answers the device's jobs requests, ignores the rest. */
  async onMessage(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseJobsTopic(topic);
    if (!parsed || parsed.op === 'notify-next') return;
    const { thingName, jobId, op } = parsed;
    const body = parseObject(payload);
    const clientToken = typeof body?.clientToken === 'string' ? { clientToken: body.clientToken } : {};
    const reply = (suffix: 'accepted' | 'rejected', message: object) =>
      this.o.publish(
        topics.jobs(thingName, `${jobId}/${op}/${suffix}` as `${string}/get/accepted`),
        JSON.stringify({ ...message, ...clientToken, timestamp: this.seconds() }),
        1,
      );
    if (op === 'get') {
      const execution =
        jobId === '$next'
          ? nextOf(await this.o.store.executionsOfThing(thingName))
          : await this.o.store.getExecution(thingName, jobId);
      if (!execution && jobId !== '$next')
        return reply('rejected', {
          code: 'ResourceNotFound',
          message: `no execution of job ${jobId} for ${thingName}`,
        });
      return reply('accepted', execution ? { execution } : {});
    }
    if (op !== 'update' || jobId === '$next') return;
    const request = parse(jobUpdateRequestSchema, body);
    if (!request.ok) return reply('rejected', { code: 'InvalidRequest', message: request.message });
    const current = await this.o.store.getExecution(thingName, jobId);
    if (!current)
      return reply('rejected', { code: 'ResourceNotFound', message: `no execution of job ${jobId} for ${thingName}` });
    const { status, statusDetails, expectedVersion } = request.value;
    if (expectedVersion !== undefined && expectedVersion !== current.versionNumber) {
      return reply('rejected', {
        code: 'VersionMismatch',
        message: `execution is at version ${current.versionNumber}`,
      });
    }
    if (TERMINAL_STATUSES.includes(current.status)) {
      return reply('rejected', { code: 'InvalidStateTransition', message: `execution is ${current.status}` });
    }
    const next: JobExecution = {
      ...current,
      status,
      ...(statusDetails && { statusDetails }),
      lastUpdatedAt: this.seconds(),
      versionNumber: current.versionNumber + 1,
    };
    if (!(await this.o.store.replaceExecution(next, current.versionNumber))) {
      return reply('rejected', { code: 'VersionMismatch', message: 'execution changed meanwhile' });
    }
    await reply('accepted', {
      executionState: {
        status: next.status,
        statusDetails: next.statusDetails ?? {},
        versionNumber: next.versionNumber,
      },
    });
    if (TERMINAL_STATUSES.includes(status)) await this.notifyNext(thingName);
  }

  /** The job's state as DescribeJob sums it up: IN_PROGRESS until every execution has ended. */
  async jobStatus(
    jobId: string,
  ): Promise<
    | { job: JobRecord; status: 'IN_PROGRESS' | 'COMPLETED'; counts: Partial<Record<JobExecutionStatus, number>> }
    | undefined
  > {
    const job = await this.o.store.getJob(jobId);
    if (!job) return undefined;
    const counts: Partial<Record<JobExecutionStatus, number>> = {};
    const executions = await this.o.store.executionsOfJob(jobId);
    for (const e of executions) counts[e.status] = (counts[e.status] ?? 0) + 1;
    return { job, status: executions.some(isPending) ? 'IN_PROGRESS' : 'COMPLETED', counts };
  }

  describeExecution(thingName: string, jobId: string): Promise<JobExecution | undefined> {
    return this.o.store.getExecution(thingName, jobId);
  }

  executionsOfJob(jobId: string): Promise<JobExecution[]> {
    return this.o.store.executionsOfJob(jobId);
  }

  private async notifyNext(thingName: string): Promise<void> {
    const execution = nextOf(await this.o.store.executionsOfThing(thingName));
    await this.o.publish(
      topics.jobs(thingName, 'notify-next'),
      JSON.stringify({ timestamp: this.seconds(), ...(execution && { execution }) }),
      1,
    );
  }
}

function parseObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
