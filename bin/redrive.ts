// `npm run redrive`: puts the records the rules' handlers gave up on (a store down past the retries) back into their
// streams, once the store is back. Nothing is lost (the records stay in the stream for 24 h) and nothing is doubled
// (the stores are idempotent). Locally: the dead letters of `$VPP_DIR/errors.jsonl` into the running stack's streams
// (each redriven once: `redriven.txt` beside it). `--aws --queue-url <DeadLetterQueueUrl>`: the dead-letter queue's
// stream dead letters into the deployed streams, each deleted from the queue once put back. `--dry-run`: says which
// dead letters it would put back (and how many records), puts nothing back and marks or deletes nothing.
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LocalConfig } from './local/stack.js';
import { commandLine, output, refuse } from './cli.js';
import { localDeadLetters, markRedriven, redrive, redriveQueue } from './local/redrive.js';

const USAGE = `usage: npm run redrive -- [--dry-run] [--json]   (the running local stack's dead letters)
       npm run redrive -- --aws --queue-url <DeadLetterQueueUrl stack output> [--dry-run] [--json]
  --dry-run   say which dead letters it would put back; put nothing back
  --json      the result alone on stdout, as JSON`;
const { values, positionals } = commandLine(USAGE, {
  aws: { type: 'boolean' },
  'queue-url': { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
});
if (positionals.length > 0) refuse(`unexpected argument ${positionals[0]}`);
const dryRun = values['dry-run'] === true;

if (values.aws) {
  const queueUrl = values['queue-url'];
  if (!queueUrl) refuse('--aws needs --queue-url <the DeadLetterQueueUrl stack output>');
  const { deadLetters, redriven, missing, wouldRedrive } = await redriveQueue(
    new SQSClient({}),
    new KinesisClient({}),
    queueUrl,
    { dryRun },
  );
  if (dryRun) output({ dryRun, deadLetters, wouldRedrive, records: redriven, missing });
  else output({ deadLetters, redriven, missing });
} else {
  const dir = resolve(process.env.VPP_DIR ?? '.vpp');
  const config = JSON.parse(
    await readFile(join(dir, 'local.json'), 'utf8').catch(() => {
      throw new Error(`no ${join(dir, 'local.json')}: start the local stack first (npm start)`);
    }),
  ) as LocalConfig;
  const kinesis = new KinesisClient({
    endpoint: config.kinesisEndpoint,
    region: config.credentials.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  const doneFile = join(dir, 'redriven.txt');
  const letters = await localDeadLetters(config.errorsFile, doneFile);
  const result = await redrive(kinesis, letters, { dryRun });
  if (!dryRun)
    await markRedriven(
      doneFile,
      letters.filter((l) => !result.missing.includes(l)),
    );
  kinesis.destroy();
  if (dryRun)
    output({
      dryRun,
      deadLetters: letters.length,
      wouldRedrive: letters.filter((l) => !result.missing.includes(l)),
      records: result.redriven,
      missing: result.missing,
    });
  else output({ deadLetters: letters.length, redriven: result.redriven, missing: result.missing });
}
