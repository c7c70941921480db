// Kinesis Data Streams served locally by kinesalite (pure JS, the Kinesis wire API, LevelDB on disk under
// `.vpp/kinesis`), in a worker thread like dynalite. A PutRecords answer means the records are in LevelDB's log (a
// write(2) per batch): they survive a kill -9 of the process (test/e2e/kill-under-load.test.ts), not a power cut
// (no fsync; docs/develop-local-aws-rules.md).
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListStreamsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { awsRulesFromEnv, type AwsRules } from './aws-rules.js';
import { startWorkerServer } from './worker-server.js';

export interface LocalKinesis {
  readonly endpoint: string;
  readonly client: KinesisClient;
  ping(): Promise<boolean>;
  /** Takes the streams down (the port refuses connections); `start()` brings them back on the same port, records kept. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** `rules`: from the environment by default; in fault mode a proxy fails records and throttles (kinesis-rules.ts). */
export async function startKinesis(path: string, rules: AwsRules = awsRulesFromEnv()): Promise<LocalKinesis> {
  const proxy = rules.faults
    ? {
        file: fileURLToPath(new URL('./kinesis-rules.ts', import.meta.url)),
        factory: 'kinesisRulesHandler',
        options: rules,
      }
    : undefined;
  const server = await startWorkerServer(
    'kinesalite',
    { path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 },
    proxy,
  );
  const endpoint = server.endpoint;
  const client = new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // the client's default HTTP/2 handler (for SubscribeToShard) gets no answer from kinesalite's HTTP/1.1 server
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 16 }) }),
    maxAttempts: 5,
  });
  return {
    endpoint,
    client,
    ping: () =>
      client.send(new ListStreamsCommand({ Limit: 1 })).then(
        () => true,
        () => false,
      ),
    stop: () => server.stop(),
    start: () => server.start(),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/** Creates the streams that do not exist yet (one shard each, as deployed by default) and waits until they are active. */
export async function ensureStreams(client: KinesisClient, names: readonly string[]): Promise<void> {
  const existing = new Set((await client.send(new ListStreamsCommand({}))).StreamNames);
  for (const name of names) {
    if (!existing.has(name)) await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    for (let i = 0; ; i++) {
      const { StreamDescriptionSummary: s } = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      if (s?.StreamStatus === 'ACTIVE') break;
      if (i === 100) throw new Error(`kinesis stream ${name} is ${s?.StreamStatus}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
