// The local rules engine: evaluates the deployed rule SQL (the subset our rules use) on every publish and runs the
// rule's action with the event IoT Core would produce: locally, as in AWS, a put into the rule's Kinesis stream
// (bin/local/lambda/stream-writer.ts), keyed by the rule's partition key template. A failed action goes to the error sink
// (the rule's errorAction) and fails the publish, so the broker withholds its PUBACK.
// Basic Ingest as IoT Core does it: `$aws/rules/{rule}/{topic}` reaches only that rule, its FROM filter is not
// applied (a rule invoked only by Basic Ingest may omit FROM), WHERE and topic() see `{topic}` without the prefix.
import { jsonDepthOver, MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES } from '../../../lambdas/core/contracts/schemas.js';
import type { ErrorSink } from '../../../lambdas/core/ingest/ingest-ports.js';
import { parseBasicIngestTopic, topicMatches } from '../../../lambdas/core/contracts/topics.js';

type Projection =
  | { kind: 'star' }
  | { kind: 'topic'; level?: number; alias: string }
  | { kind: 'clientid'; alias: string }
  | { kind: 'timestamp'; alias: string };

export interface ParsedRule {
  readonly filter: string;
  readonly projections: readonly Projection[];
  /** Fires when any of these holds (`topic(n) = 'x' OR topic(m) = 'y'`). */
  readonly where?: readonly { level: number; equals: string }[];
}

const SQL = /^SELECT\s+(.+?)\s+FROM\s+'([^']+)'(?:\s+WHERE\s+(.+))?$/i;
/** One WHERE term: `topic(n) = 'value'`; terms join with OR. */
const TOPIC_EQUALS = /^topic\((\d+)\)\s*=\s*'([^']*)'$/i;
const FUNCTION = /^(topic|clientid|timestamp)\((\d*)\)\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)$/i;

/** Parses the SQL subset the local engine supports; anything else throws, so a rule it cannot run fails tests. */
export function parseRuleSql(sql: string): ParsedRule {
  const m = SQL.exec(sql.trim());
  if (!m) throw new Error(`unsupported rule SQL: ${sql}`);
  const projections = m[1]!.split(',').map((part): Projection => {
    const p = part.trim();
    if (p === '*') return { kind: 'star' };
    const f = FUNCTION.exec(p);
    if (!f) throw new Error(`unsupported projection "${p}" in: ${sql}`);
    const fn = f[1]!.toLowerCase() as 'topic' | 'clientid' | 'timestamp';
    if (fn === 'topic') return { kind: 'topic', alias: f[3]!, ...(f[2] && { level: Number(f[2]) }) };
    if (f[2]) throw new Error(`${fn}() takes no argument in: ${sql}`);
    return { kind: fn, alias: f[3]! };
  });
  const where = m[3]?.split(/\s+OR\s+/i).map((term) => {
    const t = TOPIC_EQUALS.exec(term.trim());
    if (!t) throw new Error(`unsupported rule SQL: WHERE term "${term.trim()}" in: ${sql}`);
    return { level: Number(t[1]), equals: t[2]! };
  });
  return { filter: m[2]!, projections, ...(where && { where }) };
}

/** IoT SQL's topic(n): 1-based level, undefined past the end. */
const topicLevel = (topic: string, level: number) => topic.split('/')[level - 1];

/** The rule's event for one message, or undefined when it does not fire. `basicIngest`: FROM is not applied. */
export function evaluate(
  rule: ParsedRule,
  topic: string,
  payload: Record<string, unknown>,
  clientId: string,
  now: number,
  basicIngest = false,
) {
  if (!basicIngest && !topicMatches(rule.filter, topic)) return undefined;
  if (rule.where && !rule.where.some((w) => topicLevel(topic, w.level) === w.equals)) return undefined;
  const event: Record<string, unknown> = {};
  for (const p of rule.projections) {
    if (p.kind === 'star') Object.assign(event, payload);
    else if (p.kind === 'topic') event[p.alias] = p.level ? topicLevel(topic, p.level) : topic;
    else if (p.kind === 'clientid') event[p.alias] = clientId;
    else event[p.alias] = now;
  }
  return event;
}

export interface EngineRule {
  readonly name: string;
  readonly sql: string;
  /** The Kinesis action's partition key, an IoT substitution template (`${clientid()}`, `${payloadKey}`). */
  readonly partitionKey?: string;
  /** The rule's action. */
  readonly invoke: (event: Record<string, unknown>, partitionKey: string) => Promise<unknown>;
}

/** The substitution templates our rules use: `${clientid()}` and `${key}` of the payload. */
export function substitute(template: string, clientId: string, payload: Record<string, unknown>): string {
  return template.replace(/\$\{([^}]+)\}/g, (_, expr: string) => {
    if (/^clientid\(\)$/i.test(expr.trim())) return clientId;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(expr.trim())) {
      const value = payload[expr.trim()];
      return value === undefined || value === null ? '' : String(value);
    }
    throw new Error(`unsupported substitution template \${${expr}}`);
  });
}

export class RulesEngine {
  private readonly rules: (EngineRule & { parsed: ParsedRule })[];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    rules: readonly EngineRule[],
    private readonly errors: ErrorSink,
  ) {
    this.rules = rules.map((r) => ({ ...r, parsed: parseRuleSql(r.sql) }));
  }

  /**
   * Called for every accepted publish. Resolves once every matching rule's action is done (the message is in its
   * stream) or the message is refused to the error sink; rejects when an action failed.
   */
  onPublish(topic: string, payload: Buffer, clientId: string | undefined): Promise<void> {
    const basicIngest = parseBasicIngestTopic(topic);
    const matching = basicIngest
      ? this.rules.filter((r) => r.name === basicIngest.ruleName)
      : this.rules.filter((r) => topicMatches(r.parsed.filter, topic));
    if (matching.length === 0) return Promise.resolve();
    const sample = payload.subarray(0, 4096).toString('utf8');
    const base = { topic, ...(clientId && { clientId }), payload: sample };
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return this.track(
        this.errors.reject({ ...base, reason: 'oversize', message: `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}` }),
      );
    }
    const text = payload.toString('utf8');
    if (jsonDepthOver(text)) {
      return this.track(
        this.errors.reject({
          ...base,
          reason: 'malformed-json',
          message: `payload nests deeper than ${MAX_JSON_DEPTH} levels`,
        }),
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      return this.track(
        this.errors.reject({ ...base, reason: 'malformed-json', message: 'payload is not a JSON object' }),
      );
    }
    const now = Date.now();
    const actions: Promise<void>[] = [];
    for (const rule of matching) {
      const event = basicIngest
        ? evaluate(rule.parsed, basicIngest.topic, json as Record<string, unknown>, clientId ?? '', now, true)
        : evaluate(rule.parsed, topic, json as Record<string, unknown>, clientId ?? '', now);
      if (event) actions.push(this.track(this.run(rule, event, json as Record<string, unknown>, clientId ?? '', base)));
    }
    return Promise.all(actions).then(() => undefined);
  }

  /** Waits for every action under way (used on shutdown and by tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): Promise<void> {
    const settled = p.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return p;
  }

  private async run(
    rule: EngineRule,
    event: Record<string, unknown>,
    payload: Record<string, unknown>,
    clientId: string,
    base: { topic: string; clientId?: string; payload: string },
  ): Promise<void> {
    try {
      await rule.invoke(event, substitute(rule.partitionKey ?? '${clientid()}', clientId, payload));
    } catch (err) {
      await this.errors.reject({
        ...base,
        reason: 'handler-failed',
        message: `rule ${rule.name}: action failed: ${(err as Error).message}`,
      });
      throw err;
    }
  }
}
