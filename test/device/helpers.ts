// Test harness for the device agent: the project's own broker (policy, mutual TLS) and CA, without the rest of
// the stack, so that tests can stop and restart the broker under a running agent.
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type Broker } from '../../bin/local/iot/broker.js';
import { LocalCa } from '../../bin/local/iot/certs.js';

export interface Published {
  readonly topic: string;
  readonly payload: string;
  readonly clientId: string | undefined;
}

export interface TestBroker {
  readonly host: string;
  readonly port: number;
  readonly caFile: string;
  /** Every publish the broker accepted, in arrival order, across restarts. */
  readonly published: Published[];
  readonly refused: { clientId: string; action: string; topic: string }[];
  issue(thingName: string): Promise<{ certFile: string; keyFile: string }>;
  /** Publishes as the backend does. */
  publish(topic: string, payload: string | object, qos?: 0 | 1): Promise<void>;
  /** Stops the broker (clients dropped, sessions lost). */
  stop(): Promise<void>;
  /** A fresh broker on the same port. */
  start(): Promise<void>;
  readonly running: boolean;
  close(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function startTestBroker(dir: string): Promise<TestBroker> {
  const ca = new LocalCa(dir);
  await ca.ensure();
  const server = await ca.server();
  const tls = {
    key: await readFile(server.keyFile),
    cert: await readFile(server.certFile),
    ca: await readFile(ca.caFile),
  };
  const http = createServer();
  const published: Published[] = [];
  const refused: TestBroker['refused'] = [];
  let broker: Broker | undefined;
  let port = 0;
  const start = async () => {
    broker = await startBroker({
      host: '127.0.0.1',
      port,
      tls,
      httpServer: http,
      isOperatorToken: () => false,
      certificate: (id) => ca.registry.get(id),
      onPublish: (topic, payload, clientId) =>
        void published.push({ topic, payload: payload.toString('utf8'), clientId }),
      onRefused: (clientId, action, topic) => void refused.push({ clientId, action, topic }),
    });
    port = broker.port;
  };
  await start();
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    caFile: ca.caFile,
    published,
    refused,
    get running() {
      return broker !== undefined;
    },
    issue: (thingName) => ca.device(thingName),
    async publish(topic, payload, qos = 1) {
      if (!broker) throw new Error('broker is stopped');
      await broker.publish(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), qos);
    },
    async stop() {
      await broker?.close();
      broker = undefined;
    },
    start,
    async close() {
      await broker?.close();
      broker = undefined;
    },
  };
}

export { eventually } from '../e2e/helpers.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const on = (published: readonly Published[], topic: string) => published.filter((p) => p.topic === topic);

export const json = <T = Record<string, unknown>>(p: Published): T => JSON.parse(p.payload) as T;
