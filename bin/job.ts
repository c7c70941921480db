// `npm run job -- …`: agent updates over IoT Jobs.
//   document --release dist/agent --url <https URL | s3://bucket/key>   the job document of a release (stdout)
//   create --release dist/agent (--thing <name>… | --group) [--job-id <id>]   local stack: serve the release, create the job
//   create --aws --template <job template ARN> --group-arn <thing group ARN> [--job-id <id>]   AWS: a job from the template
//   status <jobId> [--aws]                                               each thing's execution status and details
import {
  CreateJobCommand,
  DescribeJobExecutionCommand,
  IoTClient,
  ListJobExecutionsForJobCommand,
} from '@aws-sdk/client-iot';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AGENT_UPDATE_OPERATION,
  agentUpdateDocumentSchema,
  type AgentUpdateDocument,
} from '../lambdas/core/contracts/agent-update.js';
import { parse } from '../lambdas/core/contracts/schemas.js';
import { commandLine, output, refuse } from './cli.js';
import type { Release } from './release-agent.js';

const USAGE = `usage: npm run job -- document --release <dir> --url <https URL | s3://bucket/key>
       npm run job -- create --release <dir> (--thing <name>... | --group) [--job-id <id>]
       npm run job -- create --aws --template <job template ARN> --group-arn <thing group ARN> [--job-id <id>]
       npm run job -- status <jobId> [--aws]
options: --json   the data alone on stdout, one JSON value a line`;
const LOCAL_ARN = 'arn:aws:iot:us-east-1:000000000000';

const { values, positionals } = commandLine(USAGE, {
  release: { type: 'string' },
  url: { type: 'string' },
  thing: { type: 'string', multiple: true },
  group: { type: 'boolean' },
  'job-id': { type: 'string' },
  aws: { type: 'boolean' },
  template: { type: 'string' },
  'group-arn': { type: 'string' },
  json: { type: 'boolean' },
});
const [command, jobArg] = positionals;
const dir = resolve(process.env.VPP_DIR ?? '.vpp');

/** The job document of a release: its version, where it is, its sha256 and signature. */
async function jobDocument(releaseDir: string, url: string): Promise<AgentUpdateDocument> {
  const release = JSON.parse(await readFile(join(releaseDir, 'release.json'), 'utf8')) as Release;
  if (!release.signature)
    refuse(
      `${releaseDir}/release.json: unsigned (npm run release:agent -- --sign-key <key>): agents refuse unsigned releases`,
    );
  if (!release.manifest || !release.manifest_signature)
    refuse(
      `${releaseDir}/release.json: no signed manifest (release it again with npm run release:agent): agents refuse it`,
    );
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  const doc = parse(agentUpdateDocumentSchema, {
    operation: AGENT_UPDATE_OPERATION,
    version: release.version,
    url: s3 ? `https://s3.amazonaws.com/${s3[1]}/${s3[2]}` : url,
    sha256: release.sha256,
    signature: release.signature,
    manifest: release.manifest,
    manifest_signature: release.manifest_signature,
  });
  if (!doc.ok) refuse(doc.message);
  // IoT replaces the placeholder with a presigned URL (the job's presignedUrlConfig role) in each device's copy
  return s3 ? { ...doc.value, url: `\${aws:iot:s3-presigned-url:${doc.value.url}}` } : doc.value;
}

async function localClient(): Promise<{ iot: IoTClient; apiUrl: string }> {
  const file = join(dir, 'local.json');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`no ${file}: start the local stack first (npm start), or use --aws`);
  });
  const local = JSON.parse(text) as {
    apiUrl: string;
    credentials: { accessKeyId: string; secretAccessKey: string; region: string };
  };
  return {
    iot: new IoTClient({ endpoint: local.apiUrl, region: local.credentials.region, credentials: local.credentials }),
    apiUrl: local.apiUrl,
  };
}

const jobId = values['job-id'] ?? `agent-update-${Date.now()}`;
switch (command) {
  case 'document': {
    if (!values.release || !values.url) refuse('document needs --release and --url');
    output(await jobDocument(values.release, values.url), true);
    break;
  }
  case 'create': {
    if (values.aws) {
      if (!values.template || !values['group-arn'])
        refuse('create --aws needs --template (stack output AgentJobTemplateArn) and --group-arn');
      const out = await new IoTClient({}).send(
        new CreateJobCommand({ jobId, jobTemplateArn: values.template, targets: [values['group-arn']] }),
      );
      output({ jobId: out.jobId, jobArn: out.jobArn });
      break;
    }
    if (!values.release) refuse('create needs --release <dir> (npm run release:agent)');
    const things = values.thing ?? [];
    if (things.length === 0 && !values.group) refuse('create needs --thing <name> (repeatable) or --group');
    const { iot, apiUrl } = await localClient();
    const release = JSON.parse(await readFile(join(values.release, 'release.json'), 'utf8')) as Release;
    const name = `agent-${release.version}-${release.sha256.slice(0, 8)}.mjs`;
    await mkdir(join(dir, 'releases'), { recursive: true });
    await copyFile(join(values.release, release.file), join(dir, 'releases', name));
    const document = await jobDocument(values.release, `${apiUrl}/releases/${name}`);
    const targets = values.group ? [`${LOCAL_ARN}:thinggroup/devices`] : things.map((t) => `${LOCAL_ARN}:thing/${t}`);
    const out = await iot.send(
      new CreateJobCommand({
        jobId,
        targets,
        document: JSON.stringify(document),
        description: `agent ${release.version}${release.rollback ? ' (rollback)' : ''}`,
      }),
    );
    output({ jobId: out.jobId, version: release.version, url: document.url });
    break;
  }
  case 'status': {
    if (!jobArg) refuse('status needs a job id');
    const iot = values.aws ? new IoTClient({}) : (await localClient()).iot;
    const list = await iot.send(new ListJobExecutionsForJobCommand({ jobId: jobArg }));
    for (const summary of list.executionSummaries ?? []) {
      const thingName = summary.thingArn!.split('/').pop()!;
      const { execution } = await iot.send(new DescribeJobExecutionCommand({ jobId: jobArg, thingName }));
      output({ thingName, status: execution?.status, details: execution?.statusDetails?.detailsMap ?? {} });
    }
    break;
  }
  default:
    refuse(command ? `unknown command ${command}` : 'a command is required');
}
