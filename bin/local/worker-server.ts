// A local AWS service emulator (dynalite, kinesalite) in a worker thread: its request handling and LevelDB work use
// another core than the broker's. The worker is plain CommonJS (a TypeScript loader does not reach worker threads
// under every runner); it serves `require(workerData.module)(options)` on a free port of 127.0.0.1.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require(workerData.module)(workerData.options);
server.on('error', (error) => parentPort.postMessage({ error: String(error) }));
let closing = false;
// A request still in flight when the server closes meets its database closed (dynalite leaves that promise unhandled):
// the outage a stop means, not a crash of the test or the stack.
process.on('unhandledRejection', (error) => {
  if (!(closing && /Database is closed/.test(String(error)))) throw error;
});
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message === 'close') {
    closing = true;
    server.close(() => parentPort.postMessage({ closed: true }));
    server.closeAllConnections(); // kept-alive sockets would hold the close (and a stopped part would still answer on them)
  }
});
`;

export interface WorkerServer {
  readonly endpoint: string;
  /** Closes the server (and its database) and its worker: its port refuses connections, as in an outage. */
  stop(): Promise<void>;
  /** Starts it again on the same port, on the same data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts `moduleName`'s server with `options` in a worker on a free port. */
export async function startWorkerServer(moduleName: string, options: Record<string, unknown>): Promise<WorkerServer> {
  const module = createRequire(import.meta.url).resolve(moduleName);
  let running: { worker: Worker; port: number } | undefined = await startWorker(moduleName, module, options, 0);
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
      running ??= await startWorker(moduleName, module, options, port);
    },
    close: stop,
  };
}

async function startWorker(moduleName: string, module: string, options: Record<string, unknown>, port: number): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, options, port } });
  const [started] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => [{ error: String(e) }])])) as [
    { port?: number; error?: string },
  ];
  if (started.port === undefined) {
    await worker.terminate();
    throw new Error(`${moduleName} did not start: ${started.error}`);
  }
  return { worker, port: started.port };
}
