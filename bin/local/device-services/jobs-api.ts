// The local stack's slice of the AWS IoT control-plane API for jobs (CreateJob, DescribeJob, ListJobExecutionsForJob,
// DescribeJobExecution), SigV4-signed as restJson, so `@aws-sdk/client-iot` and `aws iot … --endpoint-url` work
// unchanged; and `GET /releases/{file}`, the agent releases a local job document points at (the local stand-in for
// an S3 presigned URL: the file's sha256 and signature, not the URL, are what the agent trusts).
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { JOB_ID, type JobExecution } from '../../../lambdas/core/contracts/agent-update.js';
import { THING_NAME } from '../../../lambdas/core/contracts/topics.js';
import { JobExistsError, type JobsService } from './jobs-service.js';
import { verifySigV4 } from '../aws/sigv4.js';

export interface JobsApiOptions {
  readonly jobs: JobsService;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  /** `arn:aws:iot:<region>:<account>` of the local things. */
  readonly arnPrefix: string;
  /** Every thing of a thing group: locally, every thing the local CA issued a certificate to. */
  readonly groupMembers: () => Promise<string[]>;
  /** Served at /releases/. */
  readonly releasesDir: string;
}

const RELEASE_FILE = /^\/releases\/([A-Za-z0-9][A-Za-z0-9._-]{0,127}\.mjs)$/;
const ERRORS = {
  400: 'InvalidRequestException',
  403: 'UnauthorizedException',
  404: 'ResourceNotFoundException',
  409: 'ResourceAlreadyExistsException',
} as const;

export function jobsApi(o: JobsApiOptions) {
  return async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const release = RELEASE_FILE.exec(url.pathname);
    if (release && req.method === 'GET') {
      const file = join(o.releasesDir, release[1]!);
      if (!existsSync(file)) return error(res, 404, 'no such release');
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(await readFile(file));
      return true;
    }
    const job = /^\/jobs\/([^/]+)(\/things)?$/.exec(url.pathname);
    const execution = /^\/things\/([^/]+)\/jobs\/([^/]+)$/.exec(url.pathname);
    if (!job && !execution) return false;
    const auth = verifySigV4(
      { method: req.method ?? '', url: req.url ?? '/', headers: req.headersDistinct, body },
      { credentials: o.credentials, region: o.region, service: 'iot' },
    );
    if (!auth.ok) return error(res, 403, auth.message);
    if (execution && req.method === 'GET') {
      const e = await o.jobs.describeExecution(decodeURIComponent(execution[1]!), decodeURIComponent(execution[2]!));
      return e ? send(res, 200, { execution: describe(e, o.arnPrefix) }) : error(res, 404, 'no such job execution');
    }
    if (!job) return error(res, 400, `${req.method} ${url.pathname} is not served locally`);
    const jobId = decodeURIComponent(job[1]!);
    if (job[2] && req.method === 'GET') {
      const executions = await o.jobs.executionsOfJob(jobId);
      return send(res, 200, {
        executionSummaries: executions.map((e) => ({
          thingArn: `${o.arnPrefix}:thing/${e.thingName}`,
          jobExecutionSummary: {
            status: e.status,
            queuedAt: e.queuedAt,
            lastUpdatedAt: e.lastUpdatedAt,
            executionNumber: e.executionNumber,
          },
        })),
      });
    }
    if (req.method === 'GET') {
      const found = await o.jobs.jobStatus(jobId);
      if (!found) return error(res, 404, `no job ${jobId}`);
      const n = (status: keyof typeof found.counts) => found.counts[status] ?? 0;
      return send(res, 200, {
        job: {
          jobArn: `${o.arnPrefix}:job/${jobId}`,
          jobId,
          status: found.status,
          targets: found.job.targets.map((t) => `${o.arnPrefix}:thing/${t}`),
          ...(found.job.description !== undefined && { description: found.job.description }),
          createdAt: found.job.createdAt,
          jobProcessDetails: {
            numberOfQueuedThings: n('QUEUED'),
            numberOfInProgressThings: n('IN_PROGRESS'),
            numberOfSucceededThings: n('SUCCEEDED'),
            numberOfFailedThings: n('FAILED'),
            numberOfRejectedThings: n('REJECTED'),
            numberOfTimedOutThings: n('TIMED_OUT'),
            numberOfCanceledThings: n('CANCELED'),
            numberOfRemovedThings: n('REMOVED'),
          },
        },
      });
    }
    if (req.method !== 'PUT') return error(res, 400, `${req.method} ${url.pathname} is not served locally`);
    return createJob(o, jobId, body, res);
  };
}

async function createJob(o: JobsApiOptions, jobId: string, body: Buffer, res: ServerResponse): Promise<true> {
  if (!JOB_ID.test(jobId)) return error(res, 400, 'jobId: 1-64 characters of a-z A-Z 0-9 _ -');
  let request: { targets?: unknown; document?: unknown; description?: unknown };
  try {
    request = JSON.parse(body.toString('utf8')) as typeof request;
  } catch {
    return error(res, 400, 'body: not JSON');
  }
  if (!Array.isArray(request.targets) || request.targets.length === 0)
    return error(res, 400, 'targets: one or more thing or thing group ARNs');
  if (typeof request.document !== 'string')
    return error(res, 400, 'document: required (documentSource is not served locally)');
  let document: unknown;
  try {
    document = JSON.parse(request.document);
  } catch {
    return error(res, 400, 'document: not JSON');
  }
  const things: string[] = [];
  for (const target of request.targets) {
    const m = typeof target === 'string' ? /^arn:[^:]+:iot:[^:]*:[^:]*:(thing|thinggroup)\/(.+)$/.exec(target) : null;
    if (!m) return error(res, 400, `targets: ${JSON.stringify(target)} is not a thing or thing group ARN`);
    if (m[1] === 'thinggroup') things.push(...(await o.groupMembers()));
    else if (THING_NAME.test(m[2]!)) things.push(m[2]!);
    else return error(res, 400, `targets: invalid thing name ${JSON.stringify(m[2])}`);
  }
  try {
    await o.jobs.createJob({
      jobId,
      document,
      targets: [...new Set(things)],
      ...(typeof request.description === 'string' && { description: request.description }),
    });
  } catch (err) {
    if (err instanceof JobExistsError) return error(res, 409, err.message);
    throw err;
  }
  return send(res, 200, { jobArn: `${o.arnPrefix}:job/${jobId}`, jobId });
}

const describe = (e: JobExecution, arnPrefix: string) => ({
  jobId: e.jobId,
  status: e.status,
  statusDetails: { detailsMap: e.statusDetails ?? {} },
  thingArn: `${arnPrefix}:thing/${e.thingName}`,
  queuedAt: e.queuedAt,
  lastUpdatedAt: e.lastUpdatedAt,
  executionNumber: e.executionNumber,
  versionNumber: e.versionNumber,
});

/** The things the local CA has issued certificates to (their CN). */
export async function issuedThings(certsDir: string): Promise<string[]> {
  if (!existsSync(certsDir)) return [];
  const names = await Promise.all(
    (await readdir(certsDir))
      .filter((f) => f.endsWith('.cert.pem'))
      .map(async (f) => {
        const cn = /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(await readFile(join(certsDir, f))).subject)?.[1];
        return cn && THING_NAME.test(cn) ? cn : undefined;
      }),
  );
  return names.filter((n): n is string => n !== undefined).sort();
}

function send(res: ServerResponse, status: number, body: object): true {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

function error(res: ServerResponse, status: keyof typeof ERRORS, message: string): true {
  const text = JSON.stringify({ message });
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': ERRORS[status] });
  res.end(text);
  return true;
}
