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
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message === 'close') server.close(() => parentPort.postMessage({ closed: true }));
});
`;

export interface WorkerServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts `moduleName`'s server with `options` in a worker; `close()` closes the server (and its database), then the worker. */
export async function startWorkerServer(moduleName: string, options: Record<string, unknown>): Promise<WorkerServer> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { module: createRequire(import.meta.url).resolve(moduleName), options },
  });
  const [started] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => [{ error: String(e) }])])) as [
    { port?: number; error?: string },
  ];
  if (started.port === undefined) {
    await worker.terminate();
    throw new Error(`${moduleName} did not start: ${started.error}`);
  }
  return {
    endpoint: `http://127.0.0.1:${started.port}`,
    async close() {
      const closed = once(worker, 'message');
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
