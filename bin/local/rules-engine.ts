// The local rules engine: evaluates the deployed rule SQL (the subset our rules use) on every publish and
// invokes the rule's handler with the event IoT Core would send, asynchronously, with IoT's two retries.
// Basic Ingest as IoT Core does it: `$aws/rules/{rule}/{topic}` reaches only that rule, its FROM filter is not
// applied (a rule invoked only by Basic Ingest may omit FROM), WHERE and topic() see `{topic}` without the prefix.
import { MAX_PAYLOAD_BYTES } from '../../lambdas/core/schemas.js';
import type { ErrorSink } from '../../lambdas/core/ports.js';
import { parseBasicIngestTopic, topicMatches } from '../../lambdas/core/topics.js';

type Projection =
  | { kind: 'star' }
  | { kind: 'topic'; level?: number; alias: string }
  | { kind: 'clientid'; alias: string }
  | { kind: 'timestamp'; alias: string };

export interface ParsedRule {
  readonly filter: string;
  readonly projections: readonly Projection[];
  readonly where?: { level: number; equals: string };
}

const SQL = /^SELECT\s+(.+?)\s+FROM\s+'([^']+)'(?:\s+WHERE\s+topic\((\d+)\)\s*=\s*'([^']*)')?$/i;
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
  return { filter: m[2]!, projections, ...(m[3] && { where: { level: Number(m[3]), equals: m[4]! } }) };
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
  if (rule.where && topicLevel(topic, rule.where.level) !== rule.where.equals) return undefined;
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
  readonly invoke: (event: Record<string, unknown>) => Promise<unknown>;
}

const RETRIES = 2;
/**
 * Invocations running at once. Like a Lambda function's concurrency limit it keeps a burst from starting everything
 * together: the rest wait in arrival order, so a message's two or three store writes run back to back instead of
 * interleaving with every later message's (bench 2: that interleaving multiplied the tail latency near saturation).
 */
export const RULE_CONCURRENCY = 16;

export class RulesEngine {
  private readonly rules: (EngineRule & { parsed: ParsedRule })[];
  private readonly inFlight = new Set<Promise<void>>();
  private running = 0;
  private readonly queued: (() => void)[] = [];

  constructor(
    rules: readonly EngineRule[],
    private readonly errors: ErrorSink,
    private readonly retryDelayMs = 200,
    private readonly concurrency = RULE_CONCURRENCY,
  ) {
    this.rules = rules.map((r) => ({ ...r, parsed: parseRuleSql(r.sql) }));
  }

  /** Called for every accepted publish; never throws and never blocks the broker. */
  onPublish(topic: string, payload: Buffer, clientId: string | undefined): void {
    const basicIngest = parseBasicIngestTopic(topic);
    const matching = basicIngest
      ? this.rules.filter((r) => r.name === basicIngest.ruleName)
      : this.rules.filter((r) => topicMatches(r.parsed.filter, topic));
    if (matching.length === 0) return;
    const track = (p: Promise<void>) => {
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    };
    const sample = payload.subarray(0, 4096).toString('utf8');
    const base = { topic, ...(clientId && { clientId }), payload: sample };
    if (payload.length > MAX_PAYLOAD_BYTES) {
      track(this.errors.reject({ ...base, reason: 'oversize', message: `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}` }));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      track(this.errors.reject({ ...base, reason: 'malformed-json', message: 'payload is not a JSON object' }));
      return;
    }
    const now = Date.now();
    for (const rule of matching) {
      const event = basicIngest
        ? evaluate(rule.parsed, basicIngest.topic, json as Record<string, unknown>, clientId ?? '', now, true)
        : evaluate(rule.parsed, topic, json as Record<string, unknown>, clientId ?? '', now);
      if (event) track(this.run(rule, event, base));
    }
  }

  /** Waits for every invocation under way (used on shutdown and by tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async run(rule: EngineRule, event: Record<string, unknown>, base: { topic: string; clientId?: string; payload: string }) {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.slot();
        try {
          await rule.invoke(event);
        } finally {
          this.release();
        }
        return;
      } catch (err) {
        if (attempt === RETRIES) {
          await this.errors.reject({ ...base, reason: 'handler-failed', message: `rule ${rule.name}: ${(err as Error).message}` });
          return;
        }
        await new Promise((r) => setTimeout(r, this.retryDelayMs * (attempt + 1)));
      }
    }
  }

  /** Resolves when the invocation may run; a released slot goes straight to the oldest waiter. */
  private slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.queued.push(resolve));
  }

  private release(): void {
    const next = this.queued.shift();
    if (next) next();
    else this.running--;
  }
}
