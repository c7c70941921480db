// A proxy in front of the local Kinesis (kinesalite, which never fails a record or throttles) for the fault mode: a
// PutRecords fails some of its records as a busy shard does (FailedRecordCount, ErrorCode
// ProvisionedThroughputExceededException; the failed records are not stored), and a GetRecords may be throttled. It
// runs in kinesalite's worker thread (bundled; Node only).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultDice, type AwsRules } from './aws-rules.js';
import { readBody, reply, replyError, upstreamCaller, type Json, type Upstream } from './proxy-http.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const THROTTLED = 'ProvisionedThroughputExceededException';
const rateExceeded = (stream: string) =>
  `Rate exceeded for shard shardId-000000000000 in stream ${stream} under account 000000000000.`;

interface PutRecordsRequestEntry {
  PartitionKey: string;
  Data: string;
}

export function kinesisRulesHandler(
  upstream: Upstream,
  rules: AwsRules,
): (req: IncomingMessage, res: ServerResponse) => void {
  const call = upstreamCaller(upstream);
  const faults = rules.faults;
  const dice = faults && new FaultDice(faults.seed);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.slice(target.indexOf('.') + 1);
    if (!dice || (op !== 'PutRecords' && op !== 'GetRecords')) return reply(res, await call(req.headers, raw));
    let input: Json;
    try {
      input = JSON.parse(raw.toString()) as Json;
    } catch {
      return reply(res, await call(req.headers, raw));
    }
    if (op === 'GetRecords') {
      if (dice.hits(`GetRecords|${raw.toString()}`, faults!.kinesisThrottle)) {
        // the iterator names the stream; the message need not
        return replyError(res, CONTENT_TYPE, THROTTLED, rateExceeded('the stream'));
      }
      return reply(res, await call(req.headers, raw));
    }
    const stream = String(input.StreamName ?? '');
    const records = input.Records as PutRecordsRequestEntry[] | undefined;
    if (!Array.isArray(records) || records.length === 0) return reply(res, await call(req.headers, raw));
    const failed = records.map((r) =>
      dice.hits(`PutRecords|${stream}|${r.PartitionKey}|${r.Data}`, faults!.kinesisRecordFailure),
    );
    const kept = records.filter((_, i) => !failed[i]);
    const failure = { ErrorCode: THROTTLED, ErrorMessage: rateExceeded(stream) };
    if (kept.length === 0) {
      const body = Buffer.from(
        JSON.stringify({ FailedRecordCount: records.length, Records: records.map(() => failure) }),
      );
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': String(body.length) });
      res.end(body);
      return;
    }
    const a = await call(req.headers, JSON.stringify({ ...input, Records: kept }));
    if (a.status !== 200) return reply(res, a);
    const out = JSON.parse(a.body.toString()) as { FailedRecordCount?: number; Records: Json[] };
    const answered = out.Records[Symbol.iterator]();
    const merged = records.map((_, i) => (failed[i] ? failure : answered.next().value!));
    return reply(res, a, {
      ...out,
      FailedRecordCount: (out.FailedRecordCount ?? 0) + failed.filter(Boolean).length,
      Records: merged,
    });
  }

  return (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) replyError(res, CONTENT_TYPE, 'InternalFailure', err.message);
      else res.destroy();
    });
  };
}
