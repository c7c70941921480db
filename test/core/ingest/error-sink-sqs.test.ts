// The dead-letter queue as the error sink (SQS has no local form here): the exact SendMessage it makes, and that a
// failed send fails the invocation (so IoT retries it and then the on-failure destination keeps it).
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it, vi } from 'vitest';
import { SqsErrorSink } from '../../../lambdas/core/adapters.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/vpp-dlq';

describe('SqsErrorSink', () => {
  it('sends one JSON message per refusal, with its reason, topic, device, payload sample and time', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const sent: SendMessageCommand['input'][] = [];
    vi.spyOn(client, 'send').mockImplementation(
      (async (cmd: SendMessageCommand) => void sent.push(cmd.input)) as never,
    );
    await new SqsErrorSink(client, QUEUE).reject({
      reason: 'schema',
      message: 'usedPowerKw: expected number',
      topic: 'volttron/metering',
      clientId: 'ven-001',
      payload: '{"usedPowerKw":"x"}',
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.QueueUrl).toBe(QUEUE);
    expect(JSON.parse(sent[0]!.MessageBody!)).toEqual({
      reason: 'schema',
      message: 'usedPowerKw: expected number',
      topic: 'volttron/metering',
      clientId: 'ven-001',
      payload: '{"usedPowerKw":"x"}',
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });

  it('fails when SQS does, so the invocation is retried rather than the refusal lost', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    vi.spyOn(client, 'send').mockRejectedValue(new Error('throttled') as never);
    await expect(new SqsErrorSink(client, QUEUE).reject({ reason: 'schema', message: 'x' })).rejects.toThrow(
      'throttled',
    );
  });
});
