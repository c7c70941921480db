// The local Device Shadow service: classic (unnamed) shadows with AWS IoT's document semantics
// (https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html, device-shadow-mqtt.html).
import { isDeepStrictEqual } from 'node:util';
import { parseShadowTopic, THING_NAME, topics, type ShadowOp } from '../../../lambdas/core/contracts/topics.js';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

type Section = 'desired' | 'reported';
const REQUESTS = ['update', 'get', 'delete'] as const;
const isRequest = (op: ShadowOp): op is (typeof REQUESTS)[number] => (REQUESTS as readonly ShadowOp[]).includes(op);
const SECTIONS: readonly Section[] = ['desired', 'reported'];

export type ShadowDocument = {
  state: Partial<Record<Section, JsonObject>>;
  /** Mirrors `state`: `{ timestamp }` (epoch seconds) at each leaf, an array of those for an array. */
  metadata: Partial<Record<Section, JsonObject>>;
  version: number;
};

export interface ShadowStore {
  load(thingName: string): Promise<ShadowDocument | undefined>;
  save(thingName: string, doc: ShadowDocument): Promise<void>;
  remove(thingName: string): Promise<void>;
}

export interface ShadowServiceOptions {
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  store: ShadowStore;
  /** Epoch milliseconds. */
  now?: () => number;
}

export type ShadowErrorCode = 400 | 404 | 409 | 413;
export type ShadowResult =
  | { readonly ok: true; readonly body: JsonObject }
  | { readonly ok: false; readonly code: ShadowErrorCode; readonly message: string; readonly clientToken?: string };

/** AWS IoT's limit for a classic shadow's request payload and for its state. */
export const MAX_SHADOW_BYTES = 8 * 1024;
const MAX_DEPTH = 6;
const MAX_CLIENT_TOKEN_BYTES = 64;

interface UpdateRequest {
  state: Partial<Record<Section, JsonObject | null>>;
  clientToken?: string;
  version?: number;
}

export class ShadowService {
  private readonly queues = new Map<string, Promise<void>>();
  // AWS keeps a deleted shadow's version so a re-created shadow continues from it; here, for the process lifetime.
  private readonly deletedVersions = new Map<string, number>();

  constructor(private readonly opts: ShadowServiceOptions) {}

  /**
   * Called by the broker for every publish on `$aws/things/{thing}/shadow/...`; answers requests on their response
   * topics and ignores everything else. Rejects if the store fails, after answering 500 on the rejected topic.
   */
  async onMessage(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseShadowTopic(topic);
    if (!parsed || !isRequest(parsed.op)) return;
    const { thingName, op } = parsed;
    const clientToken = clientTokenOf(payload);
    let result: ShadowResult;
    try {
      result = op === 'update' ? await this.update(thingName, payload) : await this[op](thingName, clientToken);
    } catch (err) {
      await this.reply(thingName, `${op}/rejected`, this.error(500, 'Internal service failure', clientToken));
      throw err;
    }
    if (!result.ok)
      await this.reply(thingName, `${op}/rejected`, this.error(result.code, result.message, result.clientToken));
    else if (op === 'get') await this.reply(thingName, 'get/accepted', result.body);
  }

  /** Applies a request state document; when accepted, publishes `/update/accepted`, `/documents` and `/delta`. */
  async update(thingName: string, body: Buffer | string): Promise<ShadowResult> {
    if (!THING_NAME.test(thingName)) return invalidThingName(thingName);
    const request = parseUpdate(body);
    if (!request.ok) return request;
    return this.serial(thingName, () => this.apply(thingName, request.value));
  }

  async get(thingName: string, clientToken?: string): Promise<ShadowResult> {
    if (!THING_NAME.test(thingName)) return invalidThingName(thingName);
    return this.serial(thingName, async () => {
      const doc = await this.opts.store.load(thingName);
      if (!doc) return notFound(thingName, clientToken);
      const delta = doc.state.desired ? deltaOf(doc.state.desired, doc.state.reported) : {};
      const state = isEmpty(delta) ? doc.state : { ...doc.state, delta };
      return accepted({ state, metadata: doc.metadata, version: doc.version, timestamp: this.seconds() }, clientToken);
    });
  }

  /** Deletes the shadow; when it existed, publishes `/delete/accepted`. */
  async delete(thingName: string, clientToken?: string): Promise<ShadowResult> {
    if (!THING_NAME.test(thingName)) return invalidThingName(thingName);
    return this.serial(thingName, async () => {
      const doc = await this.opts.store.load(thingName);
      if (!doc) return notFound(thingName, clientToken);
      await this.opts.store.remove(thingName);
      this.deletedVersions.set(thingName, doc.version);
      const result = accepted({ version: doc.version, timestamp: this.seconds() }, clientToken);
      await this.reply(thingName, 'delete/accepted', result.body);
      return result;
    });
  }

  private async apply(thingName: string, request: UpdateRequest): Promise<ShadowResult> {
    const { clientToken } = request;
    const previous = await this.opts.store.load(thingName);
    const version = previous?.version ?? this.deletedVersions.get(thingName) ?? 0;
    if (request.version !== undefined && request.version !== version)
      return rejected(409, 'Version conflict', clientToken);
    const timestamp = this.seconds();
    const current = applyState(previous, request.state, timestamp, version + 1);
    if (Buffer.byteLength(JSON.stringify(current.state)) > MAX_SHADOW_BYTES) return tooLarge(clientToken);
    await this.opts.store.save(thingName, current);
    this.deletedVersions.delete(thingName);
    const metadata = stampSections(request.state, timestamp);
    const result = accepted({ state: request.state, metadata, version: current.version, timestamp }, clientToken);
    await this.reply(thingName, 'update/accepted', result.body);
    const documents = withToken({ previous: previous ?? null, current, timestamp }, clientToken);
    await this.reply(thingName, 'update/documents', documents);
    await this.publishDelta(thingName, request, current, timestamp);
    return result;
  }

  private async publishDelta(thingName: string, request: UpdateRequest, doc: ShadowDocument, timestamp: number) {
    const { desired, reported } = doc.state;
    if (request.state.desired === undefined || !desired) return;
    const delta = deltaOf(desired, reported);
    if (isEmpty(delta)) return;
    const metadata = pickMetadata(delta, doc.metadata.desired ?? {});
    const body = { state: delta, metadata, version: doc.version, timestamp };
    await this.reply(thingName, 'update/delta', withToken(body, request.clientToken));
  }

  /** One operation at a time per thing, so versions never race. */
  private serial<T>(thingName: string, op: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(thingName) ?? Promise.resolve()).then(op);
    const settle = () => {
      if (this.queues.get(thingName) === tail) this.queues.delete(thingName);
    };
    const tail: Promise<void> = run.then(settle, settle);
    this.queues.set(thingName, tail);
    return run;
  }

  private reply(thingName: string, op: ShadowOp, body: JsonObject): Promise<void> {
    return this.opts.publish(topics.shadow(thingName, op), JSON.stringify(body), 1);
  }

  private error(code: number, message: string, clientToken: string | undefined): JsonObject {
    return withToken({ code, message, timestamp: this.seconds() }, clientToken);
  }

  private seconds(): number {
    return Math.floor((this.opts.now ?? Date.now)() / 1000);
  }
}

// ---- results

const withToken = (body: JsonObject, clientToken: string | undefined): JsonObject =>
  clientToken === undefined ? body : { ...body, clientToken };

const accepted = (body: JsonObject, clientToken?: string) =>
  ({ ok: true, body: withToken(body, clientToken) }) as const;

type ShadowFailure = Extract<ShadowResult, { ok: false }>;

const rejected = (code: ShadowErrorCode, message: string, clientToken?: string): ShadowFailure =>
  clientToken === undefined ? { ok: false, code, message } : { ok: false, code, message, clientToken };

const notFound = (thingName: string, clientToken?: string) =>
  rejected(404, `No shadow exists with name: '${thingName}'`, clientToken);

const tooLarge = (clientToken?: string) => rejected(413, 'The payload exceeds the maximum size allowed', clientToken);

const invalidThingName = (thingName: string) =>
  rejected(400, `Invalid thing name '${thingName}': must be 1-128 characters of a-z A-Z 0-9 : _ -`);

// ---- request parsing

type Parsed = { ok: true; value: UpdateRequest } | ShadowFailure;

function parseUpdate(body: Buffer | string): Parsed {
  if (Buffer.byteLength(body) > MAX_SHADOW_BYTES) return tooLarge();
  const json = parseJson(body);
  if (!isObject(json)) return rejected(400, 'Invalid JSON');
  const { clientToken, version } = json;
  if (clientToken !== undefined && !isClientToken(clientToken)) return rejected(400, 'Invalid clientToken');
  const token = clientToken as string | undefined;
  if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) >= 0)) {
    return rejected(400, 'Invalid version', token);
  }
  const state = own(json, 'state');
  if (state === undefined || state === null) return rejected(400, 'Missing required node: state', token);
  if (!isObject(state)) return rejected(400, 'State node must be an object', token);
  const error = stateError(state);
  if (error) return rejected(400, error, token);
  return {
    ok: true,
    value: { state: state as UpdateRequest['state'], clientToken: token, version: version as number | undefined },
  };
}

function stateError(state: JsonObject): string | undefined {
  for (const [key, value] of Object.entries(state)) {
    if (key !== 'desired' && key !== 'reported') return `State contains an invalid node: '${key}'`;
    if (value !== null && !isObject(value))
      return `${key === 'desired' ? 'Desired' : 'Reported'} node must be an object`;
    const error = shapeError(value, 1);
    if (error) return error;
  }
  return undefined;
}

function shapeError(value: Json, level: number): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (level > MAX_DEPTH) return `JSON contains too many levels of nesting; maximum is ${MAX_DEPTH}`;
  if (Array.isArray(value) && value.includes(null)) return 'Arrays cannot contain null values';
  for (const child of Object.values(value)) {
    const error = shapeError(child, level + 1);
    if (error) return error;
  }
  return undefined;
}

function clientTokenOf(payload: Buffer): string | undefined {
  const json = parseJson(payload);
  const token = isObject(json) ? json.clientToken : undefined;
  return isClientToken(token) ? token : undefined;
}

const isClientToken = (value: unknown): value is string =>
  typeof value === 'string' && Buffer.byteLength(value) <= MAX_CLIENT_TOKEN_BYTES;

function parseJson(text: Buffer | string): Json | undefined {
  try {
    return JSON.parse(text.toString()) as Json;
  } catch {
    return undefined;
  }
}

// ---- document math (pure; never mutates its inputs)

function applyState(
  previous: ShadowDocument | undefined,
  patch: UpdateRequest['state'],
  timestamp: number,
  version: number,
) {
  const doc: ShadowDocument = { state: { ...previous?.state }, metadata: { ...previous?.metadata }, version };
  for (const section of SECTIONS) {
    const change = patch[section];
    if (change === undefined) continue;
    const [state, metadata] =
      change === null ? [{}, {}] : merge(doc.state[section], doc.metadata[section], change, timestamp);
    if (isEmpty(state)) {
      delete doc.state[section];
      delete doc.metadata[section];
    } else {
      doc.state[section] = state;
      doc.metadata[section] = metadata;
    }
  }
  return doc;
}

/** Objects merge key by key, `null` deletes, anything else (arrays included) replaces. */
function merge(state = {} as JsonObject, metadata = {} as JsonObject, patch: JsonObject, timestamp: number) {
  const nextState = new Map(Object.entries(state));
  const nextMetadata = new Map(Object.entries(metadata));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      nextState.delete(key);
      nextMetadata.delete(key);
    } else if (isObject(value)) {
      const old = nextState.get(key);
      const oldMetadata = isObject(old) ? nextMetadata.get(key) : undefined;
      const [s, m] = merge(isObject(old) ? old : {}, isObject(oldMetadata) ? oldMetadata : {}, value, timestamp);
      nextState.set(key, s);
      nextMetadata.set(key, m);
    } else {
      nextState.set(key, value);
      nextMetadata.set(key, stamp(value, timestamp));
    }
  }
  return [Object.fromEntries(nextState), Object.fromEntries(nextMetadata)] as [JsonObject, JsonObject];
}

function stamp(value: Json, timestamp: number): Json {
  if (Array.isArray(value)) return value.map((v) => stamp(v, timestamp));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stamp(v, timestamp)]));
  return { timestamp };
}

function stampSections(state: UpdateRequest['state'], timestamp: number): JsonObject {
  return Object.fromEntries(Object.entries(state).map(([section, value]) => [section, stamp(value, timestamp)]));
}

/** Desired values that differ from reported; nested objects are compared key by key, arrays as values. */
function deltaOf(desired: JsonObject, reported: JsonObject | undefined): JsonObject {
  const delta = new Map<string, Json>();
  for (const [key, want] of Object.entries(desired)) {
    const have = reported && own(reported, key);
    if (isObject(want) && isObject(have)) {
      const nested = deltaOf(want, have);
      if (!isEmpty(nested)) delta.set(key, nested);
    } else if (!isDeepStrictEqual(want, have)) {
      delta.set(key, want);
    }
  }
  return Object.fromEntries(delta);
}

function pickMetadata(delta: JsonObject, metadata: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(delta).map(([key, value]) => {
      const m = own(metadata, key) ?? null;
      return [key, isObject(value) && isObject(m) ? pickMetadata(value, m) : m];
    }),
  );
}

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isEmpty = (value: JsonObject) => Object.keys(value).length === 0;

const own = (object: JsonObject, key: string): Json | undefined =>
  Object.hasOwn(object, key) ? object[key] : undefined;
