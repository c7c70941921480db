// The refusal log rides along the error sink: the sink sees every refusal as before, whatever the log does.
import { describe, expect, it } from 'vitest';
import { teeErrorSink } from '../../../lambdas/core/ingest/error-sink-tee.js';
import type { ErrorSink, RefusalLog, Rejection } from '../../../lambdas/core/ingest/ingest-ports.js';

const rejection: Rejection = {
  reason: 'schema',
  message: 'venId: required',
  topic: 'volttron/metering',
  clientId: 'ven-1',
};

const sink = (fail = false) => {
  const seen: Rejection[] = [];
  const s: ErrorSink = {
    async reject(r) {
      if (fail) throw new Error('queue down');
      seen.push(r);
    },
  };
  return Object.assign(s, { seen });
};

const log = (record: RefusalLog['record']): RefusalLog & { seen: [Rejection, number][] } => {
  const seen: [Rejection, number][] = [];
  return {
    seen,
    record: async (r, at) => {
      seen.push([r, at]);
      return record(r, at);
    },
    list: async () => ({ items: [] }),
  };
};

describe('teeErrorSink', () => {
  it('sends each refusal to the sink and to the log, with the time it was refused', async () => {
    const primary = sink();
    const refusals = log(async () => undefined);
    await teeErrorSink(primary, refusals, () => 1234).reject(rejection);
    expect(primary.seen).toEqual([rejection]);
    expect(refusals.seen).toEqual([[rejection, 1234]]);
  });

  it('does not fail when the log fails, asynchronously or at once: the sink still has the refusal', async () => {
    const primary = sink();
    await expect(
      teeErrorSink(
        primary,
        log(async () => Promise.reject(new Error('table gone'))),
      ).reject(rejection),
    ).resolves.toBeUndefined();
    const throwing: RefusalLog = {
      record: () => {
        throw new Error('bad client');
      },
      list: async () => ({ items: [] }),
    };
    await expect(teeErrorSink(primary, throwing).reject(rejection)).resolves.toBeUndefined();
    expect(primary.seen).toEqual([rejection, rejection]);
  });

  it('still fails when the sink fails (the rule invocation is retried), the log written regardless', async () => {
    const refusals = log(async () => undefined);
    await expect(teeErrorSink(sink(true), refusals).reject(rejection)).rejects.toThrow('queue down');
    expect(refusals.seen).toHaveLength(1);
  });
});
