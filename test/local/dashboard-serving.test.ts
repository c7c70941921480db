// The local stack serves the dashboard: the build at `/` with its security headers, `/config.json`, every other path
// as the app (routes are the browser's), and the dev session only to a same-origin page on a loopback address.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../e2e/helpers.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.dispose());

function call(path: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  const url = new URL(stack.config.apiUrl);
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const own = () => new URL(stack.config.apiUrl).host;

describe('dashboard serving', () => {
  it('serves the built app at / and at any view path, with a strict content security policy', async () => {
    for (const path of ['/', '/vens/ven-001', '/events/evt-1?x=1']) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
  });

  it('serves the production build, even one a test run made (Vitest sets NODE_ENV=test): no source paths of this machine in it', async () => {
    const script = (await call('/')).body.match(/src="(\/assets\/index-[\w-]+\.js)"/)![1]!;
    const js = (await call(script)).body;
    expect(js.length).toBeGreaterThan(50_000);
    expect(js).not.toContain('fileName');
    expect(js).not.toContain(process.cwd());
  });

  it('tells the app where the API and the live feed are', async () => {
    const res = await call('/config.json');
    expect(JSON.parse(res.body)).toEqual({ mode: 'local', apiUrl: '', wsUrl: '/mqtt' });
  });

  it('hands the dev token to a same-origin page on loopback', async () => {
    const res = await call('/local/session', {
      method: 'POST',
      headers: { host: own(), origin: `http://${own()}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ token: stack.config.token });
  });

  it('refuses it to another origin, a rebinding host name and a cross-site request', async () => {
    const refused: Record<string, string>[] = [
      { host: own(), origin: 'http://evil.example' },
      { host: `evil.example:${new URL(stack.config.apiUrl).port}` },
      { host: own(), 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of refused) {
      const res = await call('/local/session', { method: 'POST', headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.body).not.toContain(stack.config.token);
    }
  });
});
