// Node metadata and the ledger on the local DynamoDB (dynalite, in a worker thread), through the real adapters:
// a ledger append (read the head, conditional put), appends racing on one node, verify of a long chain, and a
// nearby search among thousands of nodes (a few geohash cells read, not the fleet).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTables, startDynamo } from '../bin/local/aws/dynamodb.js';
import { documentClient } from '../lambdas/core/adapters.js';
import { appendEntry, verifyChain } from '../lambdas/core/records/ledger.js';
import { DynamoLedgerStore } from '../lambdas/core/records/ledger-dynamodb.js';
import { createMetadata, nearbyNodes } from '../lambdas/core/records/metadata.js';
import { DynamoMetadataStore } from '../lambdas/core/records/metadata-dynamodb.js';
import { tables } from '../lambdas/core/contracts/tables.js';
import { seededRng } from '../device/random.js';
import { atMost, int, ms, summarize, type BenchResult } from './stats.js';

const APPENDS = 300;
const RACERS = 8;
const RACE_APPENDS = 200;
const CHAIN = 1000;
const NODES = 3000;
const SEARCHES = 200;

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'vpp-ledger-'));
  const dynamo = await startDynamo(join(dir, 'db'));
  try {
    await ensureTables(dynamo.client, { ledger: tables.ledger, metadata: tables.metadata });
    const doc = documentClient(dynamo.client);
    const ledger = new DynamoLedgerStore(doc, 'ledger', 730);
    const metadata = new DynamoMetadataStore(doc, 'metadata');
    const entry = (nodeId: string, n: number) => ({
      nodeId,
      type: 'settlement' as const,
      ref: `s-${n}`,
      data: { kwh: n, amount: n * 0.25 },
    });

    const appendMs: number[] = [];
    for (let n = 0; n < APPENDS; n++) {
      const t = performance.now();
      await appendEntry(ledger, entry('bench-seq', n), Date.now());
      appendMs.push(performance.now() - t);
    }
    const raceStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: RACERS }, async () => {
        while (next < RACE_APPENDS) await appendEntry(ledger, entry('bench-race', next++), Date.now());
      }),
    );
    const raceRate = RACE_APPENDS / ((performance.now() - raceStart) / 1000);
    const race = await verifyChain(ledger, 'bench-race');
    if (!race.ok || race.entries !== RACE_APPENDS)
      throw new Error(`the raced chain does not verify: ${JSON.stringify(race)}`);

    for (let n = 0; n < CHAIN; n++) await appendEntry(ledger, entry('bench-chain', n), Date.now());
    const verifyStart = performance.now();
    const chain = await verifyChain(ledger, 'bench-chain');
    const verifyMs = performance.now() - verifyStart;
    if (!chain.ok) throw new Error('the chain does not verify');

    // nodes scattered over the Netherlands (about 300 × 250 km), searched within 25 km of random points
    const random = seededRng(18);
    for (let i = 0; i < NODES; i++) {
      const location = { lat: 51 + random() * 2.5, lon: 3.5 + random() * 3.5 };
      await createMetadata(
        metadata,
        { nodeId: `n-${i}`, location, capacity_kw: 100, technology: 'pv', tags: {}, active: true },
        Date.now(),
      );
    }
    const searchMs: number[] = [];
    let found = 0;
    for (let i = 0; i < SEARCHES; i++) {
      const t = performance.now();
      const res = await nearbyNodes(metadata, 51.5 + random() * 1.5, 4 + random() * 2.5, 25, 1000);
      searchMs.push(performance.now() - t);
      found += res.total;
    }

    const append = summarize(appendMs);
    const search = summarize(searchMs);
    return {
      id: 'ledger',
      title: 'Ledger appends and verify, nearby search (local DynamoDB)',
      method:
        `Real adapters against dynalite in a worker thread. ${APPENDS} sequential appends on one node (Query for the head, ` +
        `conditional PutItem); ${RACE_APPENDS} appends by ${RACERS} concurrent writers on one node (the chain verified ` +
        `unforked after); verify of a ${CHAIN}-entry chain; ${SEARCHES} searches within 25 km among ${NODES} nodes spread over ` +
        '~300 × 250 km.',
      figures: {
        append,
        raceAppendsPerSec: raceRate,
        verifyChainMs: verifyMs,
        chain: CHAIN,
        search,
        meanFound: found / SEARCHES,
        nodes: NODES,
      },
      rows: [
        ['ledger append p50 / p99', `${ms(append.p50)} / ${ms(append.p99)}`],
        [`appends/s, ${RACERS} writers on one node`, int(raceRate)],
        [`verify ${CHAIN} entries`, ms(verifyMs)],
        [
          `nearby 25 km among ${NODES} nodes p50 / p99`,
          `${ms(search.p50)} / ${ms(search.p99)} (${int(found / SEARCHES)} found on average)`,
        ],
      ],
      goals: [
        atMost('nearby search p99 (local)', search.p99, 100, 'ms'),
        atMost('ledger append p99 (local)', append.p99, 50, 'ms'),
      ],
      notes: [
        "One node's appends are serial by design (each waits for the head); racing writers retry with backoff, so their rate is below one writer's.",
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}
