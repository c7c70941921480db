// A local AWS service emulator (dynalite, kinesalite) in a worker thread: its request handling and LevelDB work use
// another core than the broker's. The worker is plain CommonJS (a TypeScript loader does not reach worker threads
// under every runner); it serves `require(workerData.module)(options)` on a free port of 127.0.0.1, or, with a proxy,
// the proxy there and the emulator behind it on another loopback port (the proxy's TypeScript is bundled for it).
import { buildSync } from 'esbuild';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require(workerData.module)(workerData.options);
server.on('error', (error) => parentPort.postMessage({ error: String(error) }));
let front = server;
// A request still in flight when the server closes meets its database closed (dynalite leaves that promise unhandled,
// and may settle it after the close began, in whatever order its LevelDB work ends): the outage a stop means, not a
// crash of the test or the stack ("Database is closed", "is not open" or "Iterator is not open" once it has). The
// emulator's database closes only when it is stopped.
const outage = (error) => /Database is (closed|not open)|Iterator is not open/.test(String(error));
process.on('unhandledRejection', (error) => {
  if (!outage(error)) throw error;
});
process.on('uncaughtException', (error) => {
  if (!outage(error)) throw error;
});
const listening = () => parentPort.postMessage({ port: front.address().port });
if (workerData.proxy) {
  server.listen(0, '127.0.0.1', () => {
    const proxy = { exports: {} };
    new Function('module', 'exports', 'require', workerData.proxy.code)(proxy, proxy.exports, require);
    front = require('node:http').createServer(proxy.exports[workerData.proxy.factory]({ port: server.address().port }, workerData.proxy.options));
    front.on('error', (error) => parentPort.postMessage({ error: String(error) }));
    front.listen(workerData.port, '127.0.0.1', listening);
  });
} else server.listen(workerData.port, '127.0.0.1', listening);
const closeServer = (s) => new Promise((resolve) => {
  s.close(resolve);
  s.closeAllConnections(); // kept-alive sockets would hold the close (and a stopped part would still answer on them)
});
parentPort.on('message', (message) => {
  if (message === 'close') {
    closeServer(front).then(() => front === server || closeServer(server)).then(() => parentPort.postMessage({ closed: true }));
  }
});
`;

/** A request handler factory in a TypeScript file of Node-only imports, served in front of the emulator. */
export interface WorkerProxy {
  readonly file: string;
  /** Its export `(upstream: { port }, options) => (req, res) => void`. */
  readonly factory: string;
  readonly options: unknown;
}

const bundles = new Map<string, string>();
function bundle(file: string): string {
  let code = bundles.get(file);
  if (code === undefined) {
    code = buildSync({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
    }).outputFiles[0]!.text;
    bundles.set(file, code);
  }
  return code;
}

export interface WorkerServer {
  readonly endpoint: string;
  /** Closes the server (and its database) and its worker: its port refuses connections, as in an outage. */
  stop(): Promise<void>;
  /** Starts it again on the same port, on the same data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts `moduleName`'s server with `options` in a worker on a free port, behind `proxy` when given. */
export async function startWorkerServer(
  moduleName: string,
  options: Record<string, unknown>,
  proxy?: WorkerProxy,
): Promise<WorkerServer> {
  const module = createRequire(import.meta.url).resolve(moduleName);
  const proxied = proxy && { code: bundle(proxy.file), factory: proxy.factory, options: proxy.options };
  let running: { worker: Worker; port: number } | undefined = await startWorker(
    moduleName,
    module,
    options,
    0,
    proxied,
  );
  const port = running.port;
  const stop = async () => {
    if (!running) return;
    const { worker } = running;
    running = undefined;
    const closed = once(worker, 'message');
    worker.postMessage('close');
    await closed;
    await worker.terminate();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop,
    async start() {
      running ??= await startWorker(moduleName, module, options, port, proxied);
    },
    close: stop,
  };
}

async function startWorker(
  moduleName: string,
  module: string,
  options: Record<string, unknown>,
  port: number,
  proxy: { code: string; factory: string; options: unknown } | undefined,
): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, options, port, proxy } });
  const [started] = (await Promise.race([
    once(worker, 'message'),
    once(worker, 'error').then(([e]) => [{ error: String(e) }]),
  ])) as [{ port?: number; error?: string }];
  if (started.port === undefined) {
    await worker.terminate();
    throw new Error(`${moduleName} did not start: ${started.error}`);
  }
  return { worker, port: started.port };
}
