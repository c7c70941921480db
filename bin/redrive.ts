// `npm run redrive`: puts the records the rules' handlers gave up on (a store down past the retries) back into their
// streams, once the store is back. Nothing is lost (the records stay in the stream for 24 h) and nothing is doubled
// (the stores are idempotent). Locally: the dead letters of `$VPP_DIR/errors.jsonl` into the running stack's streams
// (each redriven once: `redriven.txt` beside it). `--aws --queue-url <DeadLetterQueueUrl>`: the dead-letter queue's
// stream dead letters into the deployed streams, each deleted from the queue once put back.
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocalConfig } from './local/stack.js';
import { localDeadLetters, markRedriven, redrive, redriveQueue } from './local/redrive.js';

const { values } = parseArgs({ options: { aws: { type: 'boolean' }, 'queue-url': { type: 'string' } }, strict: true });

if (values.aws) {
  const queueUrl = values['queue-url'];
  if (!queueUrl) throw new Error('--aws needs --queue-url <the DeadLetterQueueUrl stack output>');
  console.log(JSON.stringify(await redriveQueue(new SQSClient({}), new KinesisClient({}), queueUrl)));
} else {
  const dir = resolve(process.env.VPP_DIR ?? '.vpp');
  const config = JSON.parse(await readFile(join(dir, 'local.json'), 'utf8').catch(() => {
    throw new Error(`no ${join(dir, 'local.json')}: start the local stack first (npm start)`);
  })) as LocalConfig;
  const kinesis = new KinesisClient({
    endpoint: config.kinesisEndpoint,
    region: config.credentials.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  const doneFile = join(dir, 'redriven.txt');
  const letters = await localDeadLetters(config.errorsFile, doneFile);
  const result = await redrive(kinesis, letters);
  await markRedriven(doneFile, letters.filter((l) => !result.missing.includes(l)));
  kinesis.destroy();
  console.log(JSON.stringify({ deadLetters: letters.length, redriven: result.redriven, missing: result.missing }));
}
