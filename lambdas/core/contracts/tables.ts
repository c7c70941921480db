// DynamoDB table layouts, defined once: CDK creates them, the local stack creates the same on start,
// and only the adapters beside this file know the key shapes.

export interface TableDefinition {
  /** Environment variable a Lambda reads the table name from. */
  readonly env: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly timeToLive?: string;
  readonly indexes?: readonly { name: string; partitionKey: string; sortKey?: string }[];
  /** Key attributes (of the table or an index) that hold numbers; every other key is a string. */
  readonly numberKeys?: readonly string[];
}

export const tables = {
  /**
   * VENs, gateways and Winter River nodes, two items each (`part`): the identity (kind, firstSeen), written once and
   * listed by `byKind` on a sharded key (`ven#07`), and the state (heartbeat, online, latest summary) in no index.
   */
  devices: {
    env: 'DEVICES_TABLE',
    partitionKey: 'deviceId',
    sortKey: 'part',
    indexes: [{ name: 'byKind', partitionKey: 'kindShard', sortKey: 'deviceId' }],
  },
  /**
   * Event and command ACK history per VEN, newest first by `sk` = `{iso time}#{correlationId}`; TTL `expiresAt`
   * (the archive retention, 2 years by default).
   */
  events: { env: 'EVENTS_TABLE', partitionKey: 'venId', sortKey: 'sk', timeToLive: 'expiresAt' },
  /**
   * Commands and dispatches sent, with status `sent` → `acked` | `rejected` | `timed-out`. `byDeadline` is sparse:
   * only commands still `sent` carry `pending` (`sent#07`, sharded), so the time-out sweep reads just the outstanding ones.
   */
  commands: {
    env: 'COMMANDS_TABLE',
    partitionKey: 'correlationId',
    indexes: [{ name: 'byDeadline', partitionKey: 'pending', sortKey: 'expiresAt' }],
  },
  /** Asset and site inventory (DER gateway): `kind` is `asset` or `site`, `id` the asset_id or site_id. */
  inventory: { env: 'INVENTORY_TABLE', partitionKey: 'kind', sortKey: 'id' },
  /**
   * Fleet demand-response events: the request, the per-VEN allocation and the commands that carry it. `byMonth`
   * lists them newest first one UTC month (`YYYY-MM`) at a time, so no index partition grows forever. TTL
   * `expiresAt` (the archive retention).
   */
  fleetEvents: {
    env: 'FLEET_EVENTS_TABLE',
    partitionKey: 'eventId',
    timeToLive: 'expiresAt',
    indexes: [{ name: 'byMonth', partitionKey: 'month', sortKey: 'startedAt' }],
    numberKeys: ['startedAt'],
  },
  /**
   * Messages the platform refused, kept a week: one partition per UTC day (`day#YYYY-MM-DD`), `sk` =
   * `{iso time}#{id}`; `byDevice` (sparse: only refusals with a client id) lists one sender's.
   */
  refusals: {
    env: 'REFUSALS_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    timeToLive: 'expiresAt',
    indexes: [{ name: 'byDevice', partitionKey: 'device', sortKey: 'sk' }],
  },
  /**
   * `Idempotency-Key`s of the command routes, one item per caller and key (`pk` = `{sub}#{key}`): the request's
   * fingerprint, then its first response; TTL 24 h (`expiresAt`, epoch seconds, also checked on read: TTL deletes late).
   */
  idempotency: { env: 'IDEMPOTENCY_TABLE', partitionKey: 'pk', timeToLive: 'expiresAt' },
  /** The Winter River power system (Winter River): one item, the controller's state (power-system/store-dynamodb.ts). */
  powerSystem: { env: 'POWER_SYSTEM_TABLE', partitionKey: 'pk' },
  /**
   * The DynamoDB time-series adapter: one partition per device and UTC day, one immutable compressed item per write
   * (`bucket` = its first sample's time and a content hash) holding its samples packed, templates apart; TTL retention
   * (timeseries-dynamodb.ts).
   */
  timeseries: { env: 'TIMESERIES_TABLE', partitionKey: 'pk', sortKey: 'bucket', timeToLive: 'expiresAt' },
  /**
   * Node metadata (data and persistence layer): one item per device id (VEN, DER asset, Winter River node). `byType` lists one
   * technology type; `byCell` finds nodes near a point: `cell` is the geohash of precision 3 (~156 km), `geohash` the
   * full one, so a small radius reads a few cells by prefix (geo.ts).
   */
  metadata: {
    env: 'METADATA_TABLE',
    partitionKey: 'nodeId',
    indexes: [
      { name: 'byType', partitionKey: 'technology', sortKey: 'nodeId' },
      { name: 'byCell', partitionKey: 'cell', sortKey: 'geohash' },
    ],
  },
  /**
   * The transaction ledger: one hash chain per node, `seq` 1, 2, 3 …; an append is a put conditional on its `seq`
   * being free, so two writers cannot fork the chain (ledger.ts). TTL `expiresAt` (the archive retention).
   */
  ledger: { env: 'LEDGER_TABLE', partitionKey: 'nodeId', sortKey: 'seq', timeToLive: 'expiresAt', numberKeys: ['seq'] },
  /**
   * Fleet provisioning's allow-list: one item per device serial (= its thing name to be) that may exchange the claim
   * certificate for its own (provisioning-hook.ts); `disabled: true` withdraws it.
   */
  allowList: { env: 'ALLOW_LIST_TABLE', partitionKey: 'serial' },
  /**
   * Rollups (rollups-dynamodb.ts): a node's rows of one tier, `pk` = `{nodeId}#{tier}` (15m, 1h, 1d, 1mo), `sk` = the
   * bucket's start (ISO), so a read is one Query; beside them the pass's watermark (`pass`) and late-data markers
   * (`dirty`). TTL `expiresAt` (the archive retention).
   */
  rollups: { env: 'ROLLUPS_TABLE', partitionKey: 'pk', sortKey: 'sk', timeToLive: 'expiresAt' },
  /** DR programs (programs-dynamodb.ts): one item per program, the document as `GET /api/programs/{id}` returns it. */
  programs: { env: 'PROGRAMS_TABLE', partitionKey: 'programId' },
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof tables;

/** Timestream table names; the DynamoDB adapter uses them as series names. */
export const SERIES = [
  'ven_telemetry',
  'ven_load_sample',
  'winter_river_status',
  'der_asset_sample',
  'edge_telemetry',
] as const;
export type SeriesName = (typeof SERIES)[number];
