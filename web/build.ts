// Builds the dashboard into web/dist when it is missing or older than its sources, so `npm start` and `cdk synth`
// on a fresh clone serve and publish the real build with no separate step. Concurrent callers (parallel tests) each
// build into their own folder and the first to finish is kept.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = join(WEB_DIR, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'build.ts'];

function newestSource(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestSource(join(path, entry))));
}

export function isBuildStale(): boolean {
  const index = join(DIST_DIR, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestSource(join(WEB_DIR, s)) > built);
}

/** Returns the folder to serve: web/dist, built first when needed. */
export async function ensureWebBuild(log: (line: string) => void = () => undefined): Promise<string> {
  if (!isBuildStale()) return DIST_DIR;
  log('building the dashboard (web/ → web/dist)…');
  const { build } = await import('vite');
  const outDir = join(WEB_DIR, `.dist-${process.pid}-${Date.now()}`);
  // Always the production build: Vite follows NODE_ENV, and under `npm test` (NODE_ENV=test) it built the development
  // one (27% larger, every JSX element carrying its source file's absolute path), which `npm start` and `cdk deploy`
  // then reused as current.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir } });
    if (isBuildStale()) {
      await rm(DIST_DIR, { recursive: true, force: true });
      await rename(outDir, DIST_DIR).catch(() => undefined); // another process got there first: its build is as good
    }
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    await rm(outDir, { recursive: true, force: true });
  }
  return DIST_DIR;
}
