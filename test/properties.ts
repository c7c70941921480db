// Generators for the property-based tests (fast-check): a valid message, then a few mutations at random places of
// it — a value replaced by one the stores or schemas may not take (1e-300, ±1e308, -0, long or odd strings, deep
// nesting, other types), a key removed, an unknown key added — so that runs stay near the shapes devices and
// operators really send, where the edge cases are.
import fc from 'fast-check';

/** Numbers at the edges of what DynamoDB keeps (0 or 1e-130 to 1e126) and of the schemas' ranges, and any double. */
export const edgeNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1e-300,
    -1e-300,
    1e-130,
    9.99e-131,
    1e125,
    1e126,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 1,
    0.1,
    1e9,
    1e10,
    -1,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
);

/** Strings an attacker or a broken device might send: empty, long, markup, escapes, astral and control characters. */
export const edgeString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '<img src=x onerror=alert(1)>',
    '../../etc/passwd',
    '%E0%A4%A',
    '\u0000',
    '\ud83d\ude00',
    'a'.repeat(300),
    'ven-001',
    '$aws/things',
  ),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** An object nested `depth` levels ({"a":{"a":…}}): a stack-depth attack. */
export const deep = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

export const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: edgeNumber },
  { weight: 3, arbitrary: edgeString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [1, 'x'], { nested: { x: 1 } }) },
  { weight: 1, arbitrary: fc.constantFrom(20, 1000).map(deep) },
);

type Json = Record<string, unknown> | unknown[];

/** The paths of every value in `doc` (object keys and array indexes), down to 30 levels (past a deep one's top). */
function paths(doc: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (doc === null || typeof doc !== 'object' || at.length >= 30) return [at];
  const entries = Array.isArray(doc) ? doc.map((v, i) => [i, v] as const) : Object.entries(doc);
  return [at, ...entries.flatMap(([k, v]) => paths(v, [...at, k]))];
}

type Mutation =
  | { kind: 'set'; path: number; value: unknown }
  | { kind: 'delete'; path: number }
  | { kind: 'add'; path: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), path: fc.nat(), value: edgeValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      path: fc.nat(),
      key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor')),
      value: edgeValue,
    }),
  },
);

function apply(doc: Json, m: Mutation): void {
  // a copy: the generators' objects are shared between runs, and a later mutation of one put in whole (a key added to
  // a shared `{}` whose value is that `{}`) would make a cycle, and leak into the next runs
  const value = 'value' in m ? structuredClone(m.value) : undefined;
  const all = paths(doc).filter((p) => p.length > 0 || m.kind === 'add');
  if (all.length === 0) return;
  const path = all[m.path % all.length]!;
  if (m.kind === 'add') {
    const target = path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc);
    if (target && typeof target === 'object' && !Array.isArray(target))
      Object.defineProperty(target, m.key, { value, enumerable: true, writable: true, configurable: true });
    return;
  }
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc) as Record<
    string | number,
    unknown
  >;
  const key = path.at(-1)!;
  if (m.kind === 'set') parent[key] = value;
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
}

/**
 * `base` (a valid message, built from the generated `seed`) as is, or with one to three mutations: about a third of
 * the runs are valid messages (stored whole), the rest mostly not (refused, naming a field). The result is what JSON
 * on the wire makes of it.
 */
export function nearlyValid<S>(
  seed: fc.Arbitrary<S>,
  base: (seed: S) => Json,
): fc.Arbitrary<{ doc: Record<string, unknown>; mutations: Mutation[] }> {
  return fc
    .tuple(
      seed,
      fc.oneof(
        { weight: 1, arbitrary: fc.constant<Mutation[]>([]) },
        { weight: 2, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
      ),
    )
    .map(([s, mutations]) => {
      const doc = base(s);
      for (const m of mutations) apply(doc, m);
      return { doc: JSON.parse(JSON.stringify(doc)) as Record<string, unknown>, mutations };
    });
}

/** A refusal names the field it is about: `circuits.0.currentKw: …`, `venId …`, `timestamp: …`, `tags." ": …` (an odd key quoted). */
const STEP = String.raw`(?:[\w$-]+|"(?:[^"\\]|\\.)*")`;
export const NAMES_A_FIELD = new RegExp(String.raw`^(\(root\)|${STEP}(?:\.${STEP})*)[: ]`);
