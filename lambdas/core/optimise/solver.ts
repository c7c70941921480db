// The LP solver: HiGHS compiled to WebAssembly (the `highs` package, MIT), loaded once per process. Its loader reads
// `highs.wasm` from beside itself in the package; nothing is downloaded at run time. The Lambda bundle leaves the
// package out of its `index.mjs` and carries it in `node_modules/` beside it (lib/handler-function.ts, `packages`), so
// only the first battery schedule of a process pays for loading it.
import type { Highs } from 'highs';

export type Solver = Highs;

type Loader = (typeof import('highs'))['default'];

/**
 * The package's types describe it as CommonJS (`exports.default`), while Node and bundlers load its ES module (the
 * loader is the default export): take the loader either way.
 */
const loaderOf = (m: unknown): Loader => {
  const d = (m as { default: Loader | { default: Loader } }).default;
  return typeof d === 'function' ? d : d.default;
};

let loading: Promise<Solver> | undefined;

/** The HiGHS runtime, instantiated on first use (about 150 ms) and shared after. */
export function loadSolver(): Promise<Solver> {
  loading ??= import('highs')
    .then((m) => loaderOf(m)())
    .catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
  return loading;
}
