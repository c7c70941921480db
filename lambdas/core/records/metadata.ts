// Node metadata (data and persistence layer): where a node is, what it is, what it may earn. One document per device id (VEN, DER
// asset, Winter River node), written by admins, read by every role; the store port is MetadataStore below.
import * as z from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../contracts/errors.js';
import { CELL_PRECISION, coveringCells, distanceKm, geohash } from './geo.js';
import type { Page } from '../common/page.js';
import { THING_NAME } from '../contracts/topics.js';

export const TECHNOLOGIES = ['ven', 'bess', 'pv', 'wind', 'ev', 'datacenter', 'winter-river', 'gateway'] as const;
export type Technology = (typeof TECHNOLOGIES)[number];

const price = z.number().min(0).max(1_000_000);
const fields = {
  location: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
  capacity_kw: z.number().min(0).max(10_000_000),
  technology: z.enum(TECHNOLOGIES),
  tariff: z.strictObject({
    shed_price_per_kwh: price,
    energy_price_per_kwh: price,
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code (EUR, USD …)')
      .default('EUR'),
  }),
  grid_connection_point: z.string().min(1).max(128),
  tags: z
    .record(z.string().regex(/^[\w.:-]{1,64}$/, 'tag names are 1 to 64 of a-z A-Z 0-9 _ . : -'), z.string().max(256))
    .refine((t) => Object.keys(t).length <= 50, 'at most 50 tags'),
  /** Commissioned and in service; `GET /api/nodes/active` lists these. */
  active: z.boolean(),
};

/** `POST /api/metadata`. */
export const metadataSchema = z.strictObject({
  nodeId: z.string().regex(THING_NAME, 'must be a device id (a-z A-Z 0-9 : _ -)'),
  location: fields.location,
  capacity_kw: fields.capacity_kw,
  technology: fields.technology,
  tariff: fields.tariff.optional(),
  grid_connection_point: fields.grid_connection_point.optional(),
  tags: fields.tags.default({}),
  active: fields.active.default(true),
});
export type NodeMetadata = z.infer<typeof metadataSchema>;

/** `PATCH /api/metadata/{nodeId}`: any of the fields but the id; `tags` replaces the tags. */
export const metadataPatchSchema = z
  .strictObject({
    location: fields.location,
    capacity_kw: fields.capacity_kw,
    technology: fields.technology,
    tariff: fields.tariff,
    grid_connection_point: fields.grid_connection_point,
    tags: fields.tags,
    active: fields.active,
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'at least one field to change' });
export type MetadataPatch = z.infer<typeof metadataPatchSchema>;

/** A stored document: the metadata, when it was written and its version (each write bumps it). */
export interface MetadataRecord extends NodeMetadata {
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MetadataStore {
  /** False when the node already has metadata. */
  create(record: MetadataRecord): Promise<boolean>;
  get(nodeId: string): Promise<MetadataRecord | undefined>;
  /** False when the stored version is no longer `expectedVersion` (another write got there first). */
  replace(record: MetadataRecord, expectedVersion: number): Promise<boolean>;
  listByType(technology: Technology, page: { limit: number; next?: string }): Promise<Page<MetadataRecord>>;
  /** Every node whose geohash starts with `cell` (its first CELL_PRECISION characters are the index partition). */
  listInCell(cell: string): Promise<MetadataRecord[]>;
}

/** The index keys of a record: its technology, its coarse cell and its full geohash. */
export function indexKeys(m: NodeMetadata) {
  const hash = geohash(m.location.lat, m.location.lon);
  return { technology: m.technology, cell: hash.slice(0, CELL_PRECISION), geohash: hash };
}

export async function createMetadata(
  store: MetadataStore,
  metadata: NodeMetadata,
  now: number,
): Promise<MetadataRecord> {
  const at = new Date(now).toISOString();
  const record: MetadataRecord = { ...metadata, version: 1, createdAt: at, updatedAt: at };
  if (!(await store.create(record)))
    throw new ConflictError(`node ${metadata.nodeId} already has metadata: PATCH it`, 'nodeId');
  return record;
}

export async function getMetadata(store: MetadataStore, nodeId: string): Promise<MetadataRecord> {
  const record = await store.get(nodeId);
  if (!record) throw new NotFoundError(`metadata of ${nodeId}`);
  return record;
}

export async function patchMetadata(
  store: MetadataStore,
  nodeId: string,
  patch: MetadataPatch,
  now: number,
): Promise<MetadataRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getMetadata(store, nodeId);
    const next: MetadataRecord = {
      ...current,
      ...patch,
      version: current.version + 1,
      updatedAt: new Date(now).toISOString(),
    };
    if (await store.replace(next, current.version)) return next;
  }
  throw new ConflictError(`metadata of ${nodeId} is being changed by another request: retry`);
}

export interface NearbyNode extends MetadataRecord {
  readonly distance_km: number;
}

/** Nodes within `radiusKm` of a point, nearest first: a few index cells read, then the exact distance kept. */
export async function nearbyNodes(store: MetadataStore, lat: number, lon: number, radiusKm: number, limit: number) {
  const cells = coveringCells(lat, lon, radiusKm);
  if (!cells) throw new ValidationError('radius_km', 'radius_km: too wide this close to a pole');
  const found = (await Promise.all(cells.map((c) => store.listInCell(c)))).flat();
  const near = found
    .map((m): NearbyNode => ({ ...m, distance_km: round3(distanceKm(lat, lon, m.location.lat, m.location.lon)) }))
    .filter((m) => m.distance_km <= radiusKm)
    .sort((a, b) => a.distance_km - b.distance_km || a.nodeId.localeCompare(b.nodeId));
  return { items: near.slice(0, limit), total: near.length, cells_read: cells.length };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
