// The whole platform in one process: broker, rules engine, Kinesis streams, shadow service, DynamoDB, HTTP API and a
// simulated fleet. The handlers, schemas and rules are the deployed ones; only the endpoints differ.
import type { ResponseMismatch } from './response-check.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiHandler } from '../../lambdas/api/handler.js';
import { ROLES, type Role } from '../../lambdas/core/contracts/roles.js';
import { buildApiPorts, type ApiPorts } from '../../lambdas/api/ports.js';
import { housekeeping as housekeepingRun } from '../../lambdas/command-timeouts/handler.js';
import { rollupPass } from '../../lambdas/rollups/handler.js';
import { schedule } from './lambda/schedule.js';
import { SETTLEMENT_GRACE_MS } from '../../lambdas/core/dr/settlement.js';
import { rollupFleet } from '../../lambdas/core/analytics/rollup-pass.js';
import {
  buildIngestPorts,
  buildPowerSystem,
  documentClient,
  ledgerStore,
  rollupStore,
} from '../../lambdas/core/adapters.js';
import { type Ports } from '../../lambdas/core/ingest/ingest-ports.js';
import { IotDeviceIdentities } from '../../lambdas/core/fleet/identities.js';
import { loadTopologyFile } from '../../lambdas/core/power-system/topology-file.js';
import type { Topology } from '../../lambdas/core/contracts/topology.js';
import { limitErrorSink } from '../../lambdas/core/ingest/error-sink-limit.js';
import { teeErrorSink } from '../../lambdas/core/ingest/error-sink-tee.js';
import { DynamoRefusalLog } from '../../lambdas/core/ingest/refusals-dynamodb.js';
import { DynamoTelemetryStore } from '../../lambdas/core/timeseries/timeseries-dynamodb.js';
import { DynamoInventoryStore } from '../../lambdas/core/inventory/inventory-dynamodb.js';
import { cachedInventory } from '../../lambdas/core/inventory/inventory-cache.js';
import { loadInventoryFile } from '../../lambdas/core/inventory/inventory-file.js';
import type { Env } from '../../lambdas/core/common/config.js';
import { ruleJson, rules, type RuleHandler } from '../../lambdas/core/contracts/rules.js';
import { streamHandler } from '../../lambdas/core/ingest/stream-handler.js';
import { tables, type TableName } from '../../lambdas/core/contracts/tables.js';
import { parseJobsTopic, parseShadowTopic } from '../../lambdas/core/contracts/topics.js';
import { startBroker, type BrokerOptions } from './iot/broker.js';
import { LocalCa } from './iot/certs.js';
import { closeOrphanSessions } from './iot/orphan-sessions.js';
import { dataPlaneRoutes } from './device-services/data-plane.js';
import { ensureWebBuild } from '../../web/build.js';
import { ensureTables, startDynamo } from './aws/dynamodb.js';
import { FileErrorSink } from './lambda/error-sink-file.js';
import { frontDoor, roleOfToken } from './http-server.js';
import type { ApiLimits } from './aws/aws-limits.js';
import { startS3 } from './aws/s3.js';
import { S3ReportFiles } from '../../lambdas/core/dr/report-files-s3.js';
import { ensureStreams, startKinesis } from './aws/kinesis.js';
import { RulesEngine } from './iot/rules-engine.js';
import { CheckpointFile, StreamConsumer } from './lambda/stream-consumer.js';
import { StreamWriter } from './lambda/stream-writer.js';
import { issuedThings, jobsApi } from './device-services/jobs-api.js';
import { JobsService } from './device-services/jobs-service.js';
import { DynamoJobsStore, JOBS_TABLE } from './device-services/jobs-store-dynamodb.js';
import { ShadowService } from './device-services/shadow-service.js';
import { ProvisioningService } from './iot/provisioning-service.js';
import { identitiesApi } from './iot/identities-api.js';
import { AwsCalls, type AwsCall, type DeployedFunction } from './aws/aws-calls.js';
import { DynamoAllowList } from '../../lambdas/core/fleet/provisioning-hook.js';
import { DynamoShadowStore, SHADOW_TABLE } from './device-services/shadow-store-dynamodb.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REGION = 'us-east-1';
/** The device policy's name locally (the deployed one's is DEVICE_POLICY_NAME); revocation detaches it. */
const LOCAL_DEVICE_POLICY = 'vpp-device-policy';

export interface LocalStackOptions {
  /** State folder (CA, certificates, DynamoDB data, error sink); `.vpp` by default. */
  readonly dir: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly httpPort?: number;
  readonly mqttPort?: number;
  /** IoT Core's HTTPS publish with the device certificate (`POST /topics/{topic}`); a free port by default (npm start: VPP_HTTPS_PORT, 8443). */
  readonly httpsPublishPort?: number;
  readonly fleet?: boolean;
  readonly log?: (line: string) => void;
  /** Asset inventory (DER gateway YAML). Default: `inventory.yaml` at the repo root if present, else device/inventory.example.yaml. */
  readonly inventoryFile?: string;
  /** The Winter River power chain the controller runs (and the simulated fleet's nodes). Default: device/winter-river.topology.yaml. */
  readonly topologyFile?: string;
  /** Seconds a command waits for its ACK before it is `timed-out`. Default 60. */
  readonly commandTimeoutSec?: number;
  /** Telemetry retention in days (TTL). @default 30 */
  readonly retentionDays?: number;
  /** ACK history and ledger retention in days (TTL). @default 730 */
  readonly archiveRetentionDays?: number;
  /** How often the housekeeping sweep (command time-outs, event settlement) runs. Default 5000. */
  readonly commandSweepMs?: number;
  /** How long after a fleet event's end it is settled. Default SETTLEMENT_GRACE_MS (5 minutes). */
  readonly settlementGraceMs?: number;
  /** How often the rollup pass runs (AWS: every 15 minutes). Default 60,000. */
  readonly rollupIntervalMs?: number;
  /** The portfolio's time zone (PORTFOLIO_TIME_ZONE): the rollups' local days and months. Default UTC. */
  readonly portfolioTimeZone?: string;
  /** Wraps the rule handlers' ports, e.g. to time the store writes (bench/). */
  readonly instrumentPorts?: (ports: Ports) => Ports;
  /** The clock the rules' time-series writes are stamped with (their write time): tests simulate late arrivals. */
  readonly telemetryClock?: () => number;
  /**
   * Records a rule's stream may hold that its consumer has not checkpointed yet; past it the broker withholds
   * PUBACKs and stops reading from publishers until the consumer catches up. Default 10,000.
   */
  readonly streamBacklog?: number;
  /** Retries of a failing batch before its records are dead-lettered. Default: the rule's (10, as deployed). */
  readonly streamRetryAttempts?: number;
  /** AWS's HTTP API and Lambda limits the front door holds (aws-limits.ts); tests shorten the integration timeout. */
  readonly apiLimits?: Partial<ApiLimits>;
  /** The S3 endpoint of the event reports (presigned downloads); 3001, or a free port when httpPort is 0. */
  readonly s3Port?: number;
  /** Hold every API answer to the OpenAPI document (response-check.ts); the test stacks do. */
  readonly checkResponses?: boolean;
}

/** The content of `.vpp/local.json`. */
export interface LocalConfig {
  apiUrl: string;
  /** The admin's dev bearer token (the dev session a loopback page gets). */
  token: string;
  /** A dev bearer token per role: API calls with a token get its role's rights. */
  tokens: Record<Role, string>;
  iotDataEndpoint: string;
  wsUrl: string;
  /** `httpsPort`: IoT Core's HTTPS publish (`POST https://host:httpsPort/topics/{topic}?qos=1` with the device certificate). */
  mqtt: { host: string; port: number; caFile: string; httpsPort?: number };
  credentials: { accessKeyId: string; secretAccessKey: string; region: string };
  errorsFile: string;
  /** The rules' Kinesis streams (kinesalite): where `npm run redrive` puts dead letters back. */
  kinesisEndpoint: string;
  /**
   * Fleet provisioning by claim: the template's name, and the allow-list table (`serial` = the thing name to be) on
   * the local DynamoDB endpoint (`npm run provision -- allow <serial>` writes it).
   */
  provisioning: { templateName: string; allowListTable: string; dynamodbEndpoint: string };
  /** The event reports' bucket on the local S3 endpoint (path-style URLs), signed with `credentials`. */
  reports: { s3Endpoint: string; bucket: string };
}

/** The bucket of the event reports on the local S3 endpoint (the deployed one's name is generated). */
export const LOCAL_REPORTS_BUCKET = 'vpp-reports';

/** The provisioning template the local stack serves (the deployed one's name is the stack output ProvisioningTemplateName). */
export const LOCAL_PROVISIONING_TEMPLATE = 'vpp-devices';

export interface ProvisionResult {
  thingName: string;
  certFile: string;
  keyFile: string;
  caFile: string;
  endpoint: string;
  port: number;
}

export interface LocalStack {
  readonly config: LocalConfig;
  provision(thingName: string): Promise<ProvisionResult>;
  /** Publishes as the backend does (IoT data plane Publish). */
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>;
  /**
   * Hands a message to the rules engine as the broker does with every publish it accepts, so another broker can
   * front the same engine (bench/: Mosquitto). The caller vouches for `clientId`.
   */
  deliverToRules(topic: string, payload: Buffer, clientId: string | undefined): Promise<void>;
  /** The rules' streams: records queued or not yet consumed, and puts waiting for room. */
  streams(): { backlog: Record<string, number>; waiting: number };
  /** Resolves once every message taken is stored or refused: rule actions done, every stream consumed. */
  settle(): Promise<void>;
  /** Runs a rollup pass now, as the schedule does (`now`: the pass's clock), after the one under way. */
  rollupPass(now?: number): Promise<void>;
  /** Stops taking messages, drains the streams into the stores, then stops everything. */
  close(): Promise<void>;
  /** The local DynamoDB and the stack's table names, for tools and tests that look beneath the API. */
  readonly dynamodb: { readonly client: DynamoDBClient; readonly tables: Record<TableName, string> };
  /** The stores the operator API and the housekeeping sweep run on, for tests and benches that drive them directly. */
  readonly ports: ApiPorts;
  /**
   * Takes a part down as an outage would and brings it back on the same port: the broker (every connection dropped,
   * as a broker restart does), the DynamoDB store, the Kinesis streams. For the fault tests and `/health`.
   */
  readonly parts: Record<StackPart, { stop(): Promise<void>; start(): Promise<void> }>;
  /** Every AWS call the deployed functions' code made here, as IAM sees it in AWS (aws-calls.ts). */
  readonly awsCalls: { all(): AwsCall[] };
  /** The API answers that did not match the OpenAPI document (with `checkResponses`; none without). */
  readonly responseMismatches: () => readonly ResponseMismatch[];
}

export type StackPart = 'broker' | 'dynamodb' | 'kinesis';

const localTableName = (name: string) => `vpp-${name}`;
/** The local stream of a rule (`rules[i].name`). */
export const localStreamName = (rule: string) => `vpp-${rule}`;

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const dir = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  // a bad topology stops the start before anything listens, naming the file and the field
  const topology = loadTopologyFile(opts.topologyFile ?? join(ROOT, 'device', 'winter-river.topology.yaml'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secrets = await loadSecrets(join(dir, 'secrets.json'));

  const ca = new LocalCa(dir);
  await ca.ensure();
  const serverCert = await ca.server();

  const dynamo = await startDynamo(join(dir, 'dynamodb'));
  const tableNames = Object.fromEntries(Object.keys(tables).map((t) => [t, localTableName(t)])) as Record<
    TableName,
    string
  >;
  const outdated = await ensureTables(dynamo.client, {
    ...Object.fromEntries(Object.entries(tables).map(([t, def]) => [localTableName(t), def])),
    [localTableName('shadows')]: { env: 'SHADOWS_TABLE', ...SHADOW_TABLE },
    [localTableName('jobs')]: { env: 'JOBS_TABLE', ...JOBS_TABLE },
  });
  for (const table of outdated) {
    log(
      `dynamodb: ${table} has an older key layout than this version uses: delete ${join(dir, 'dynamodb')} to recreate the tables`,
    );
  }

  const env: Env = {
    DEVICES_TABLE: tableNames.devices,
    EVENTS_TABLE: tableNames.events,
    COMMANDS_TABLE: tableNames.commands,
    TIMESERIES_BACKEND: 'dynamodb',
    TIMESERIES_TABLE: tableNames.timeseries,
    RETENTION_DAYS: opts.retentionDays ?? 30,
    ARCHIVE_RETENTION_DAYS: opts.archiveRetentionDays ?? 730,
    LEDGER_TABLE: tableNames.ledger,
    ROLLUPS_TABLE: tableNames.rollups,
    PORTFOLIO_TIME_ZONE: opts.portfolioTimeZone ?? 'UTC',
  };
  const errorsFile = new FileErrorSink(join(dir, 'errors.jsonl'), {
    onFailure: (err) => log(`error sink: ${err.message}`),
  });
  // every refusal (the broker's, the rules engine's, the handlers') to the file as before and to the readable log
  const unlimited = teeErrorSink(errorsFile, new DynamoRefusalLog(documentClient(dynamo.client), tableNames.refusals));
  const errors = limitErrorSink(unlimited);
  // each deployed function's code runs on its own SDK clients, which record its calls (aws-calls.ts)
  const awsCalls = new AwsCalls({
    region: REGION,
    credentials: secrets.credentials,
    dynamodb: dynamo,
    environment: {
      ...Object.fromEntries(Object.entries(tableNames).map(([t, name]) => [name, tables[t as TableName].env])),
      [LOCAL_DEVICE_POLICY]: 'DEVICE_POLICY_NAME',
      [LOCAL_REPORTS_BUCKET]: 'REPORTS_BUCKET',
    },
  });
  // the controller's commands leave through the data plane, as from the Lambda; it listens once the HTTP server does
  const powerOf = (fn: DeployedFunction | undefined) =>
    buildPowerSystem(topology, tableNames.powerSystem, awsCalls.dynamodb(fn), awsCalls.publisher(fn));
  const rulePorts = (fn: RuleHandler): Ports => {
    const client = awsCalls.dynamodb(fn);
    const built: Ports = {
      ...buildIngestPorts(env, client),
      inventory: cachedInventory(new DynamoInventoryStore(documentClient(client), tableNames.inventory)),
      power: powerOf(fn),
      ledger: ledgerStore(env, tableNames.ledger, client),
      // the dead-letter queue is the file here; the refusal log as deployed; rate-limited per function, as in AWS
      errors: limitErrorSink(
        teeErrorSink(
          awsCalls.deadLetterQueue(fn, errorsFile),
          new DynamoRefusalLog(documentClient(client), tableNames.refusals),
        ),
      ),
    };
    const clocked: Ports = opts.telemetryClock
      ? {
          ...built,
          telemetry: new DynamoTelemetryStore({
            client: documentClient(client),
            tableName: tableNames.timeseries,
            retentionDays: env.RETENTION_DAYS,
            now: opts.telemetryClock,
          }),
        }
      : built;
    return opts.instrumentPorts ? opts.instrumentPorts(clocked) : clocked;
  };

  // store before processing: every rule puts into its stream, and the rule's handler reads the stream in batches
  const kinesis = await startKinesis(join(dir, 'kinesis'));
  await ensureStreams(
    kinesis.client,
    rules.map((r) => localStreamName(r.name)),
  );
  const consumers = new Map<string, StreamConsumer>();
  const writer = new StreamWriter({
    client: kinesis.client,
    maxBacklog: opts.streamBacklog ?? 10_000,
    onWritten: (stream) => consumers.get(stream)?.wake(),
  });
  const checkpoints = await CheckpointFile.open(join(dir, 'kinesis-checkpoints.json'));
  for (const rule of rules) {
    const stream = localStreamName(rule.name);
    const ports = rulePorts(rule.handler);
    const handler = streamHandler(rule.handler, () => ports);
    consumers.set(
      stream,
      new StreamConsumer({
        client: kinesis.client,
        stream,
        region: REGION,
        batchSize: rule.stream.batchSize,
        parallelization: rule.stream.parallelization,
        retryAttempts: opts.streamRetryAttempts ?? rule.stream.retryAttempts,
        handler,
        context: () => lambdaContext(rule.handler),
        checkpoints,
        onCheckpoint: (sequenceNumber) => writer.checkpointed(stream, sequenceNumber),
        // dead letters are the store's failures, not a device's refusals: never rate-limited, every one redrivable
        errors: unlimited,
        log,
      }),
    );
  }
  await Promise.all([...consumers.values()].map((c) => c.start()));
  const engine = new RulesEngine(
    rules.map((rule) => ({
      name: rule.name,
      sql: rule.sql,
      partitionKey: rule.partitionKey,
      // a record needs a partition key; IoT Core always knows the client, a bridged message may not (bench/)
      invoke: (event, partitionKey) =>
        writer.put(localStreamName(rule.name), partitionKey || 'unknown', Buffer.from(ruleJson(event))),
    })),
    errors,
  );

  const httpServer = createServer();
  let shadows: ShadowService | undefined;
  let jobs: JobsService | undefined;
  let provisioning: ProvisioningService | undefined;
  // shadow updates and broker refusals under way: close() waits for them before it stops the database
  const work = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    work.add(p);
    void p.finally(() => work.delete(p));
  };
  const brokerOptions: BrokerOptions = {
    host,
    port: opts.mqttPort ?? 8883,
    httpsPort: opts.httpsPublishPort ?? 0,
    tls: {
      key: await readFile(serverCert.keyFile),
      cert: await readFile(serverCert.certFile),
      ca: await readFile(ca.caFile),
    },
    httpServer,
    // the live feed is read only: any role may watch it
    isOperatorToken: (password) => roleOfToken(secrets.tokens, password) !== undefined,
    log,
    onRefused(clientId, action, topic, why) {
      track(
        errors
          .reject({
            reason: why?.reason ?? 'not-authorized',
            message: why?.message ?? `${clientId} may not ${action} ${topic}`,
            topic,
            clientId,
          })
          .catch((err: Error) => log(`error sink: ${err.message}`)),
      );
    },
    toRules: (topic, payload, clientId) => engine.onPublish(topic, payload, clientId),
    onPublish(topic, payload, clientId) {
      if (parseShadowTopic(topic) && shadows) {
        track(shadows.onMessage(topic, payload).catch((err: Error) => log(`shadow: ${err.message}`)));
      }
      if (parseJobsTopic(topic) && jobs)
        track(jobs.onMessage(topic, payload).catch((err: Error) => log(`jobs: ${err.message}`)));
      if (clientId && provisioning?.handles(topic)) {
        track(
          provisioning.onMessage(topic, payload, clientId).catch((err: Error) => log(`provisioning: ${err.message}`)),
        );
      }
    },
    certificate: (id) => ca.registry.get(id),
    provisioningTemplate: LOCAL_PROVISIONING_TEMPLATE,
  };
  // the broker's own knowledge of open sessions, as IoT Core has it: no function's call
  const orphans = await closeOrphanSessions(buildIngestPorts(env, dynamo.client).registry, (topic, payload) =>
    engine.onPublish(topic, payload, undefined),
  );
  if (orphans > 0) log(`broker: ${orphans} session(s) left open by the last run closed`);
  let broker = await startBroker(brokerOptions);
  provisioning = new ProvisioningService({
    ca,
    templateName: LOCAL_PROVISIONING_TEMPLATE,
    allowList: new DynamoAllowList(documentClient(awsCalls.dynamodb('provisioning-hook')), tableNames.allowList),
    reply: (clientId, topic, payload) => broker.publishTo(clientId, topic, payload),
    log,
  });
  shadows = new ShadowService({
    publish: (topic, payload, qos) => broker.publish(topic, payload, qos),
    store: new DynamoShadowStore(documentClient(dynamo.client), localTableName('shadows')),
  });
  jobs = new JobsService({
    publish: (topic, payload, qos) => broker.publish(topic, payload, qos),
    store: new DynamoJobsStore(documentClient(dynamo.client), localTableName('jobs')),
  });
  httpServer.listen(opts.httpPort ?? 3000, host);
  await once(httpServer, 'listening');
  const httpPort = (httpServer.address() as AddressInfo).port;
  const baseUrl = `http://${host}:${httpPort}`;
  const credentials = { ...secrets.credentials, region: REGION };

  awsCalls.listening(baseUrl);
  const s3 = await startS3({
    dir: join(dir, 's3'),
    host,
    port: opts.s3Port ?? (opts.httpPort === 0 ? 0 : 3001),
    buckets: [LOCAL_REPORTS_BUCKET],
    credentials: secrets.credentials,
    region: REGION,
  });
  awsCalls.s3Listening(s3.endpoint);
  // the operator API's own ports, the inventory it routes dispatches with, and the housekeeping sweep
  const portsOf = (fn: DeployedFunction | undefined): ApiPorts =>
    buildApiPorts(
      env,
      {
        INVENTORY_TABLE: tableNames.inventory,
        FLEET_EVENTS_TABLE: tableNames.fleetEvents,
        REFUSALS_TABLE: tableNames.refusals,
        IDEMPOTENCY_TABLE: tableNames.idempotency,
        METADATA_TABLE: tableNames.metadata,
        LEDGER_TABLE: tableNames.ledger,
        PROGRAMS_TABLE: tableNames.programs,
        COMMAND_TIMEOUT_SEC: opts.commandTimeoutSec ?? 60,
      },
      awsCalls.dynamodb(fn),
      awsCalls.iotData(fn),
      powerOf(fn),
      // the deployed adapter, on the local control plane (identities-api.ts)
      new IotDeviceIdentities(LOCAL_DEVICE_POLICY, awsCalls.iot(fn)),
      new S3ReportFiles(awsCalls.s3(fn), LOCAL_REPORTS_BUCKET),
    );
  const apiPorts = portsOf('api');
  const housekeepingPorts = portsOf('command-timeouts');
  const rollupsOwnPorts = portsOf('rollups');
  const inventoryFile = opts.inventoryFile ?? defaultInventoryFile();
  // as `npm run inventory` does with the operator's credentials: not a call of the API function
  const inventory = await loadInventoryFile(
    inventoryFile,
    new DynamoInventoryStore(documentClient(dynamo.client), tableNames.inventory),
  );
  log(`inventory: ${inventory.sites} site(s), ${inventory.assets} asset(s) from ${inventoryFile}`);
  const settlementGraceMs = opts.settlementGraceMs ?? SETTLEMENT_GRACE_MS;
  const housekeeping = schedule(
    'housekeeping',
    opts.commandSweepMs ?? 5000,
    () => housekeepingRun(housekeepingPorts, Date.now(), settlementGraceMs),
    log,
  );
  const rollupPorts = {
    telemetry: rollupsOwnPorts.telemetry,
    rollups: rollupStore(env, documentClient(awsCalls.dynamodb('rollups'))),
    fleet: () => rollupFleet(rollupsOwnPorts.registry, rollupsOwnPorts.inventory),
    timeZone: env.PORTFOLIO_TIME_ZONE,
  };
  const rollups = schedule('rollups', opts.rollupIntervalMs ?? 60_000, (now) => rollupPass(rollupPorts, now), log);
  const revocations = watchRevocations(ca, (id) => broker.disconnectCertificate(id), log);
  const api = apiHandler(() => apiPorts);
  const responseCheck = opts.checkResponses ? new (await import('./response-check.js')).ResponseCheck() : undefined;
  httpServer.on(
    'request',
    frontDoor({
      tokens: secrets.tokens,
      api: (event) => api(event, lambdaContext('api')),
      dataPlane: eitherOf(
        identitiesApi({
          registry: ca.registry,
          disconnect: (id) => broker.disconnectCertificate(id),
          credentials: secrets.credentials,
          region: REGION,
          arnPrefix: `arn:aws:iot:${REGION}:000000000000`,
        }),
        jobsApi({
          jobs,
          credentials: secrets.credentials,
          region: REGION,
          arnPrefix: `arn:aws:iot:${REGION}:000000000000`,
          groupMembers: () => issuedThings(join(dir, 'certs')),
          releasesDir: join(dir, 'releases'),
        }),
        dataPlaneRoutes({
          shadows,
          publish: (topic, payload, qos) => broker.publish(topic, payload, qos),
          credentials: secrets.credentials,
          region: REGION,
        }),
      ),
      health: async () => ({
        http: true,
        broker: broker.up && broker.delivering,
        dynamodb: await dynamo.ping(),
        kinesis: await kinesis.ping(),
      }),
      webDir: await ensureWebBuild(log),
      dashboardConfig: { mode: 'local', apiUrl: '', wsUrl: '/mqtt' },
      limits: opts.apiLimits,
      ...(responseCheck && { onApiAnswer: (key, status, type, body) => responseCheck.check(key, status, type, body) }),
      log,
    }),
  );

  const config: LocalConfig = {
    apiUrl: baseUrl,
    token: secrets.tokens.admin,
    tokens: secrets.tokens,
    iotDataEndpoint: baseUrl,
    wsUrl: `ws://${host}:${httpPort}/mqtt`,
    mqtt: {
      host,
      port: broker.port,
      caFile: ca.caFile,
      ...(broker.httpsPort !== undefined && { httpsPort: broker.httpsPort }),
    },
    credentials,
    errorsFile: errorsFile.file,
    kinesisEndpoint: kinesis.endpoint,
    provisioning: {
      templateName: LOCAL_PROVISIONING_TEMPLATE,
      allowListTable: tableNames.allowList,
      dynamodbEndpoint: dynamo.endpoint,
    },
    reports: { s3Endpoint: s3.endpoint, bucket: LOCAL_REPORTS_BUCKET },
  };

  const provision = async (thingName: string): Promise<ProvisionResult> => ({
    thingName,
    ...(await ca.device(thingName)),
    endpoint: host,
    port: broker.port,
  });

  const streamsDrained = () =>
    Object.values(writer.backlog()).every((n) => n === 0) && [...consumers.values()].every((c) => c.idle);
  const settle = async () => {
    for (;;) {
      while (work.size > 0) await Promise.allSettled([...work]);
      await engine.drain();
      if (streamsDrained() && work.size === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  // the fleet's info lines only where the stack's own lines go (not when embedded without a log: tests)
  const fleet = opts.fleet
    ? await startSimulatedFleet(dir, config, provision, topology, log, opts.log ? 'info' : 'warn')
    : undefined;

  return {
    config,
    dynamodb: { client: dynamo.client, tables: tableNames },
    // the same stores on clients that record nothing: what a test does through them is no function's call
    ports: portsOf(undefined),
    provision,
    publish: (topic, payload, qos = 1) => broker.publish(topic, payload, qos),
    deliverToRules: (topic, payload, clientId) =>
      engine.onPublish(topic, payload, clientId).catch((err: Error) => log(`rules: ${err.message}`)),
    streams: () => ({ backlog: writer.backlog(), waiting: writer.waiting() }),
    settle,
    rollupPass: (now) => rollups.runNow(now),
    parts: {
      broker: {
        stop: () => broker.close(),
        async start() {
          if (!broker.up)
            broker = await startBroker({ ...brokerOptions, port: broker.port, httpsPort: broker.httpsPort });
        },
      },
      dynamodb: dynamo,
      kinesis,
    },
    awsCalls,
    responseMismatches: () => responseCheck?.mismatches() ?? [],
    async close() {
      await fleet?.stop();
      await broker.close();
      await settle();
      await Promise.all([...consumers.values()].map((c) => c.stop()));
      await housekeeping.stop();
      await rollups.stop();
      clearInterval(revocations);
      httpServer.closeAllConnections();
      httpServer.close();
      await s3.close();
      await kinesis.close();
      awsCalls.destroy();
      await dynamo.close();
    },
  };
}

type Routes = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;
const eitherOf =
  (...routes: Routes[]): Routes =>
  async (req, res, body) => {
    for (const r of routes) if (await r(req, res, body)) return true;
    return false;
  };

async function startSimulatedFleet(
  dir: string,
  config: LocalConfig,
  provision: (thing: string) => Promise<ProvisionResult>,
  topology: Topology,
  log: (line: string) => void,
  logLevel: 'info' | 'warn',
) {
  const { startFleet, defaultFleet } = await import('../../device/fleet.js');
  const devices = await Promise.all(
    defaultFleet(
      ROOT,
      topology.nodes.map((n) => n.id),
    ).map(async (d) => ({ ...d, ...(await provision(d.thingName)) })),
  );
  log(`simulated fleet: ${devices.map((d) => d.thingName).join(', ')}`);
  return startFleet({
    host: config.mqtt.host,
    port: config.mqtt.port,
    caFile: config.mqtt.caFile,
    dataDir: join(dir, 'fleet'),
    devices,
    logLevel,
  });
}

/**
 * A certificate revoked or deactivated outside this process (`npm run provision -- <thing> --revoke`) loses its open
 * connections within half a second; new ones the broker refuses on connect anyway.
 */
/** `disconnect` reaches the broker running now (a restarted broker is another object). */
function watchRevocations(ca: LocalCa, disconnect: (certificateId: string) => number, log: (line: string) => void) {
  const done = new Set(
    ca.registry
      .all()
      .filter((r) => r.status !== 'ACTIVE')
      .map((r) => r.certificateId),
  );
  const timer = setInterval(() => {
    for (const { certificateId, status, thingName } of ca.registry.all()) {
      if (status === 'ACTIVE' || done.has(certificateId)) continue;
      done.add(certificateId);
      if (disconnect(certificateId) > 0)
        log(`broker: ${thingName ?? certificateId} disconnected: certificate ${status}`);
    }
  }, 500);
  timer.unref();
  return timer;
}

function defaultInventoryFile(): string {
  const atRoot = join(ROOT, 'inventory.yaml');
  return existsSync(atRoot) ? atRoot : join(ROOT, 'device', 'inventory.example.yaml');
}

interface Secrets {
  /** The admin's token: `token` in `local.json`, and the only token before roles came. */
  token: string;
  tokens: Record<Role, string>;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

const newToken = () => randomBytes(32).toString('base64url');

/**
 * The dev bearer tokens (one per role, the admin's is `token`) and the local data-plane credentials: made once, kept
 * in `.vpp/secrets.json` (0600). A file from before roles gains the viewer and operator tokens and keeps its token.
 */
async function loadSecrets(file: string): Promise<Secrets> {
  const stored = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Partial<Secrets>) : {};
  const token = stored.token ?? newToken();
  const tokens = Object.fromEntries(
    ROLES.map((role) => [role, role === 'admin' ? token : (stored.tokens?.[role] ?? newToken())]),
  );
  const secrets: Secrets = {
    token,
    tokens: tokens as Record<Role, string>,
    credentials: stored.credentials ?? {
      accessKeyId: `AKIAVPPLOCAL${randomBytes(4).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
    },
  };
  if (JSON.stringify(secrets) !== JSON.stringify(stored))
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `vpp-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:000000000000:function:vpp-local-${name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/vpp-local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
