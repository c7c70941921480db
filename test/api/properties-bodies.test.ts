// Property-based (fast-check): every API request body — send-event, dispatch, a fleet DR event, the Winter River
// command, the HTTP telemetry fallback — generated near its valid shape and mutated, sent over HTTP to the local
// stack. Each answer is a success (and a reading sent is read back equal) or a 400 naming a field: never a 500.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture, fixtureText } from '../fixture.js';
import { presenceConnected } from '../e2e/helpers.js';
import { NAMES_A_FIELD, nearlyValid } from '../properties.js';
import { nowSec, post, shows, startApiStack, type ApiTestStack } from './stack.js';

const RUNS = 30;
let stack: ApiTestStack;
beforeAll(async () => {
  stack = await startApiStack();
  // a VEN and a Winter River node the commands can go to
  await presenceConnected(stack, 'ven-001');
  await stack.deliverToRules(
    topics.metering,
    Buffer.from(JSON.stringify({ ...fixture('volttron-metering'), timestamp: nowSec() })),
    'ven-001',
  );
  await stack.deliverToRules(
    topics.winterRiverStatus('pdu_a'),
    Buffer.from(fixtureText('winter-river-status')),
    'pdu_a',
  );
  await stack.settle();
  // the commands look their device up in the registry (an eventually consistent read): wait until both show
  await shows(async () => expect((await stack.api('/api/vens/ven-001')).status).toBe(200));
  await shows(async () =>
    expect((await stack.api('/api/winter-river/nodes')).body.items.map((n: any) => n.nodeId)).toContain('pdu_a'),
  );
});
afterAll(() => stack?.dispose());

// valid values (in milli-units: the edge values come from the mutations)
const amount = fc.record({
  kw: fc.integer({ min: 1, max: 1_000_000 }).map((n) => n / 1000),
  mw: fc.integer({ min: -4000, max: 4000 }).map((n) => n / 1000),
  sec: fc.integer({ min: 1, max: 86_400 }),
});

type Amount = typeof amount extends fc.Arbitrary<infer T> ? T : never;

/** The answer is a success, or a 400 whose body names the field: never a 5xx. */
async function answer(path: string, doc: unknown, ok: number[]) {
  const res = await stack.api(path, post(doc));
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
  if (res.status === 400) {
    expect(res.body).toMatchObject({ field: expect.any(String) });
    expect(res.body.message).toMatch(NAMES_A_FIELD);
  } else {
    expect(ok).toContain(res.status);
    if (res.status === 404) expect(res.body.message).toMatch(/not found/);
  }
  return res;
}

describe('property: every API body gets a success or a 400 naming the field', () => {
  it('POST /api/vens/{venId}/send-event and POST /api/events (plans)', async () => {
    await fc.assert(
      fc.asyncProperty(
        nearlyValid(amount, (a) => ({ shed_kw: a.kw, duration_sec: a.sec, event_id: 'evt-prop' })),
        async ({ doc }) => {
          await answer('/api/vens/ven-001/send-event', doc, [202]);
        },
      ),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(
        nearlyValid(amount, (a) => ({ shed_kw: a.kw, duration_sec: a.sec, ven_ids: ['ven-001'], dry_run: true })),
        async ({ doc }) => {
          // 404: a VEN id mutated into one that does not exist; 409: `dry_run` mutated away, so an earlier run's event
          // holds ven-001 and nothing is left to allocate
          const res = await answer('/api/events', doc, [200, 202, 404, 409]);
          if (res.status === 409)
            expect(res.body.message).toMatch(/nothing left to allocate: ven-001 .* is committed to /);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /dispatch (dry runs) and the Winter River command', async () => {
    await fc.assert(
      fc.asyncProperty(
        nearlyValid(amount, (a) => ({ site_id: 'site-a', mw: a.mw, dry_run: true })),
        async ({ doc }) => {
          const res = await answer('/dispatch', doc, [200, 202, 404]); // 404: a site or asset id the inventory does not know
          if (res.status === 200) expect(res.body.mw_requested).toBe(doc.mw);
        },
      ),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(
        nearlyValid(amount, (a) => ({ command: 'set_fault', params: { level: a.kw, note: 'x' } })),
        async ({ doc }) => {
          await answer('/api/winter-river/nodes/pdu_a/command', doc, [202]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /api/telemetry: a reading accepted is read back equal', async () => {
    let t = nowSec() - 3 * 24 * 3600;
    const reading = (a: Amount) => ({
      ...fixture('volttron-metering'),
      venId: 'ven-http',
      timestamp: ++t,
      usedPowerKw: a.kw,
      shedPowerKw: a.kw / 2,
    });
    await fc.assert(
      fc.asyncProperty(nearlyValid(amount, reading), async ({ doc }) => {
        const res = await answer('/api/telemetry', doc, [200, 201, 202]);
        if (res.status >= 300) return;
        const at = doc.timestamp as number;
        // read back once it shows (the read is eventually consistent, as in AWS)
        await shows(async () => {
          const back = await stack.api(`/api/vens/${String(doc.venId)}/telemetry?start=${at}&end=${at}`);
          expect(back.body.items).toHaveLength(1);
          for (const key of ['usedPowerKw', 'shedPowerKw', 'batterySOC', 'eventId'] as const)
            expect(back.body.items[0][key]).toEqual(doc[key] ?? undefined);
        });
      }),
      { numRuns: RUNS },
    );
  });
});
