// The dashboard's AWS sign-in in a real browser: authorization code + PKCE against a stand-in for the user pool's
// hosted domain (Cognito has no local form), asserting the exact requests: the authorize redirect, the code exchange
// whose verifier matches the challenge, the refresh, the bearer the API receives, and the sign-out.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_DIR, ensureWebBuild } from '../../web/build.js';
import { launchChromium } from './browser.js';

const CLIENT_ID = 'dashboard-client';
let browser: Browser;
let site: string;
let cognito: string;
const servers: Server[] = [];
const authorizeRequests: URLSearchParams[] = [];
const tokenRequests: URLSearchParams[] = [];
const apiBearers: string[] = [];

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => unknown) {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    await handler(req, res, body);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type' };
const json = (res: ServerResponse, body: unknown) =>
  res.writeHead(200, { 'content-type': 'application/json', ...cors }).end(JSON.stringify(body));

beforeAll(async () => {
  await ensureWebBuild();
  browser = await launchChromium();
  let issued = 0;
  cognito = await listen((req, res, body) => {
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (url.pathname === '/oauth2/authorize') {
      authorizeRequests.push(url.searchParams);
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.search = new URLSearchParams({ code: 'the-code', state: url.searchParams.get('state')! }).toString();
      return void res.writeHead(302, { location: back.href }).end();
    }
    if (url.pathname === '/oauth2/token' && req.method === 'POST') {
      tokenRequests.push(new URLSearchParams(body));
      issued++;
      // the first token expires in 5 minutes: the dashboard must refresh it before using it for long
      return json(res, {
        access_token: `access-${issued}`,
        id_token: `id-${issued}`,
        refresh_token: issued === 1 ? 'refresh-1' : undefined,
        expires_in: issued === 1 ? 300 : 3600,
      });
    }
    if (url.pathname === '/logout')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<title>signed out</title>');
    res.writeHead(404).end();
  });
  const api = await listen((req, res) => {
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    apiBearers.push(req.headers.authorization ?? '');
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/api/me') return json(res, { role: 'operator' });
    if (path === '/api/portfolio')
      return json(res, {
        at: new Date().toISOString(),
        vens: { total: 0, online: 0 },
        used_kw: 0,
        shed_kw: 0,
        available_shed_kw: 0,
        bess: null,
      });
    json(res, { items: [] });
  });
  const config = {
    mode: 'aws',
    apiUrl: api,
    region: 'us-east-1',
    iotEndpoint: '127.0.0.1:1', // nothing listens: the live feed stays down and the page polls
    iotAuthorizerName: 'vpp-operators',
    userPoolId: 'us-east-1_test',
    userPoolClientId: CLIENT_ID,
    authDomain: cognito,
  };
  site = await listen(async (req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/config.json') return json(res, config);
    const file = path.startsWith('/assets/') ? join(DIST_DIR, path) : join(DIST_DIR, 'index.html');
    const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };
    res
      .writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
      .end(await readFile(file));
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

const sha256url = (s: string) => createHash('sha256').update(s).digest('base64url');

describe('Cognito sign-in (authorization code + PKCE)', () => {
  it('signs in through the hosted domain, refreshes the short-lived token, calls the API with it and signs out', async () => {
    const page = await browser.newPage();
    await page.goto(`${site}/winter-river`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Winter River' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/winter-river'); // back where the operator started, code gone

    const authorize = authorizeRequests[0]!;
    expect(Object.fromEntries(authorize)).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${site}/`,
      scope: 'openid email profile',
      state: expect.any(String),
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
    });
    const exchange = tokenRequests[0]!;
    expect(Object.fromEntries(exchange)).toEqual({
      client_id: CLIENT_ID,
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: `${site}/`,
      code_verifier: expect.any(String),
    });
    expect(sha256url(exchange.get('code_verifier')!)).toBe(authorize.get('code_challenge'));

    // 300 s left is under the 6-minute margin: the first API call refreshes first
    await expect.poll(() => tokenRequests.length).toBe(2);
    expect(Object.fromEntries(tokenRequests[1]!)).toEqual({
      client_id: CLIENT_ID,
      grant_type: 'refresh_token',
      refresh_token: 'refresh-1',
    });
    await expect.poll(() => apiBearers.length).toBeGreaterThan(0);
    expect(new Set(apiBearers)).toEqual(new Set(['Bearer access-2']));
    await page.getByRole('status').filter({ hasText: 'Polling' }).waitFor({ timeout: 15_000 });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${cognito}/logout?*`);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({
      client_id: CLIENT_ID,
      logout_uri: `${site}/`,
    });
    await page.close();
  }, 45_000);

  it('refuses an answer whose state does not match the request', async () => {
    const page = await browser.newPage();
    await page.goto(`${site}/?code=stolen&state=forged`);
    await page.getByRole('alert').filter({ hasText: 'does not match' }).waitFor();
    expect(tokenRequests.filter((r) => r.get('code') === 'stolen')).toEqual([]);
    await page.close();
  });
});
