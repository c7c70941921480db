// Jobs and their executions on DynamoDB, one table: an execution per `{thingName, jobId}`, the job itself under the
// thing name `#job` (no thing is so named), and an index by job for its executions.
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobExecution } from '../../../lambdas/core/contracts/agent-update.js';
import type { JobRecord, JobsStore } from './jobs-service.js';

/** The table's keys, for whoever creates it. */
export const JOBS_TABLE = {
  partitionKey: 'thingName',
  sortKey: 'jobId',
  indexes: [{ name: 'byJob', partitionKey: 'jobId', sortKey: 'thingName' }],
};
const JOB = '#job';

export class DynamoJobsStore implements JobsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putJob(job: JobRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { thingName: JOB, jobId: job.jobId, job: JSON.stringify(job) },
          ConditionExpression: 'attribute_not_exists(jobId)',
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async getJob(jobId: string): Promise<JobRecord | undefined> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { thingName: JOB, jobId }, ConsistentRead: true }),
    );
    return typeof res.Item?.job === 'string' ? (JSON.parse(res.Item.job) as JobRecord) : undefined;
  }

  async putExecution(execution: JobExecution): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item(execution) }));
  }

  async replaceExecution(execution: JobExecution, versionNumber: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item(execution),
          ConditionExpression: 'versionNumber = :v',
          ExpressionAttributeValues: { ':v': versionNumber },
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async getExecution(thingName: string, jobId: string): Promise<JobExecution | undefined> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { thingName, jobId }, ConsistentRead: true }),
    );
    return res.Item && thingName !== JOB ? execution(res.Item) : undefined;
  }

  async executionsOfThing(thingName: string): Promise<JobExecution[]> {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'thingName = :t',
        ExpressionAttributeValues: { ':t': thingName },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map(execution);
  }

  async executionsOfJob(jobId: string): Promise<JobExecution[]> {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byJob',
        KeyConditionExpression: 'jobId = :j',
        ExpressionAttributeValues: { ':j': jobId },
      }),
    );
    return (res.Items ?? []).filter((i) => i.thingName !== JOB).map(execution);
  }
}

const item = (e: JobExecution) => ({ ...e, jobDocument: JSON.stringify(e.jobDocument ?? null) });
const execution = (i: Record<string, unknown>): JobExecution => ({
  ...(i as JobExecution),
  jobDocument: JSON.parse(i.jobDocument as string) as unknown,
});
