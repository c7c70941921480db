// AWS's HTTP API and Lambda limits in the local front door, each crossed by a real request through the local stack,
// answered as API Gateway answers: 413 past 10 MB or past Lambda's 6 MB event, 500 for a response over Lambda's
// 6 MB, 503 past the integration timeout. The timeout is shortened here (8 s, not 30 s) so that the file runs in seconds.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_API_LIMITS, HTTP_API_LIMITS, LAMBDA_LIMITS } from '../../bin/local/aws/aws-limits.js';
import { startTestStack, type TestStack } from '../e2e/helpers.js';

const TIMEOUT_MS = 8000;
const lines: string[] = [];
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ apiLimits: { integrationTimeoutMs: TIMEOUT_MS }, log: (line) => lines.push(line) });
}, 120_000);
afterAll(() => stack?.dispose());

const request = (path: string, init: RequestInit = {}) =>
  fetch(`${stack.config.apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.config.tokens.admin}`, ...init.headers },
  });

describe('the limits AWS holds, on by default', () => {
  it("are HTTP API's 10 MB and 30 s and Lambda's 6 MB each way", () => {
    expect(AWS_API_LIMITS).toEqual({
      requestBytes: 10_485_760,
      integrationTimeoutMs: 30_000,
      invokeRequestBytes: 6_291_456,
      invokeResponseBytes: 6_291_556,
    });
    expect(HTTP_API_LIMITS.requestBytes).toBe(AWS_API_LIMITS.requestBytes);
    expect(LAMBDA_LIMITS.invokeResponseBytes - LAMBDA_LIMITS.invokeRequestBytes).toBe(100);
  });
});

describe('a request body', () => {
  // not JSON: the handler refuses it with a 400 naming the body, once the event reaches it
  const body = (bytes: number) => 'x'.repeat(bytes);

  it('over 10 MB is refused by API Gateway with 413, without a token too', async () => {
    for (const headers of [{}, { authorization: '' }] as Record<string, string>[]) {
      const res = await request('/api/metadata', {
        method: 'POST',
        body: body(HTTP_API_LIMITS.requestBytes + 1),
        headers,
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ message: 'Request Entity Too Large' });
    }
  });

  it("under 10 MB but making an event over Lambda's 6 MB is refused with 413; a little under 6 MB reaches the handler", async () => {
    const over = await request('/api/metadata', {
      method: 'POST',
      body: body(LAMBDA_LIMITS.invokeRequestBytes + 10_000),
    });
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(lines.some((l) => /RequestEntityTooLargeException: \d+ bytes/.test(l))).toBe(true);

    const under = await request('/api/metadata', {
      method: 'POST',
      body: body(LAMBDA_LIMITS.invokeRequestBytes - 10_000),
    });
    expect(under.status).toBe(400);
    expect(await under.json()).toMatchObject({ error: 'ValidationError' });
  });
});

describe('a response', () => {
  it("over Lambda's 6 MB is API Gateway's 500; a page of it under 6 MB is served", async () => {
    // 150 VENs whose latest summary is 45 KB each: a page of 100 is 4.5 MB, all 150 are 6.75 MB
    const blob = 'x'.repeat(45_000);
    for (let i = 0; i < 150; i++)
      await stack.ports.registry.recordHeartbeat('ven', `ven-big-${String(i).padStart(3, '0')}`, Date.now(), { blob });

    const page = await request('/api/vens?limit=100');
    expect(page.status).toBe(200);
    const served = Buffer.from(await page.arrayBuffer());
    expect(served.length).toBeGreaterThan(4_500_000);
    expect(served.length).toBeLessThan(LAMBDA_LIMITS.invokeResponseBytes);

    const all = await request('/api/vens?limit=150');
    expect(all.status).toBe(500);
    expect(await all.json()).toEqual({ message: 'Internal Server Error' });
    expect(lines.some((l) => /Function\.ResponseSizeTooLarge: \d+ bytes/.test(l))).toBe(true);
  }, 60_000);
});

describe('a route that takes longer than the integration timeout', () => {
  it('is answered 503 when the timeout passes, while a quick route still answers', async () => {
    // the store stops answering: a handler reading it waits, as on a store that hangs
    const dynamodb = new URL(stack.config.provisioning.dynamodbEndpoint);
    await stack.parts.dynamodb.stop();
    const held = new Set<Socket>();
    const silent: Server = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(Number(dynamodb.port), dynamodb.hostname, resolve));
    try {
      const started = Date.now();
      const slow = request('/api/vens');
      expect((await request('/api/me')).status).toBe(200);
      const res = await slow;
      const took = Date.now() - started;
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ message: 'Service Unavailable' });
      expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(took).toBeLessThan(TIMEOUT_MS + 10_000);
      expect(lines.some((l) => l.includes(`no answer within the ${TIMEOUT_MS} ms integration timeout`))).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await stack.parts.dynamodb.start();
    }
  }, 60_000);
});
