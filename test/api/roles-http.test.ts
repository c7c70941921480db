// Every route × every role through the real local server: the front door maps each dev token to its role and passes
// it on as API Gateway's claims, and the handler refuses a route above the caller's role with a 403. Allowed
// requests are made harmless (an unknown id, an empty body) so that they reach the route and send nothing.
import mqtt from 'mqtt';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRole, ROLES } from '../../lambdas/core/contracts/roles.js';
import { routeKey, routes, type RouteDefinition } from '../../lambdas/api/routes.js';
import { startLocalStack } from '../../bin/local/stack.js';
import { post, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.dispose());

const pathOf = (route: RouteDefinition) => route.path.replace(/\{\w+\}/g, 'no-such-id');

describe('roles through the local server', () => {
  it('gives local.json a distinct token per role, the admin’s being `token`', () => {
    const { token, tokens } = stack.config;
    expect(Object.keys(tokens).sort()).toEqual([...ROLES].sort());
    expect(tokens.admin).toBe(token);
    expect(new Set(Object.values(tokens)).size).toBe(3);
  });

  it('answers GET /api/me with the role of the token presented', async () => {
    for (const role of ROLES)
      expect(await stack.api('/api/me', { token: stack.config.tokens[role] })).toEqual({ status: 200, body: { role } });
  });

  it('lets each role call the routes at or below it and answers 403 for the others', async () => {
    const table = (routes as readonly RouteDefinition[]).filter((r) => r.role !== 'public');
    const outcomes: string[] = [];
    for (const route of table) {
      for (const role of ROLES) {
        const res = await stack.api(pathOf(route), {
          method: route.method,
          ...(route.method === 'POST' && { body: '{}' }),
          token: stack.config.tokens[role],
        });
        const allowed = hasRole(role, route.role as (typeof ROLES)[number]);
        if (allowed) {
          // reached the route: its own answer (200, or 400/404 for the harmless input), never a refusal or a crash
          expect([200, 400, 404], `${role} ${routeKey(route)}: ${JSON.stringify(res.body)}`).toContain(res.status);
        } else {
          expect(res, `${role} ${routeKey(route)}`).toEqual({
            status: 403,
            body: { error: 'Forbidden', message: `${routeKey(route)} needs the ${route.role} role` },
          });
        }
        outcomes.push(`${role} ${routeKey(route)} ${allowed ? 'allowed' : 403}`);
      }
    }
    // viewers are refused exactly the write routes, operators only the admin's
    expect(outcomes.filter((o) => o.startsWith('viewer') && o.endsWith('403'))).toHaveLength(20);
    expect(outcomes.filter((o) => o.startsWith('operator') && o.endsWith('403'))).toEqual([
      'operator POST /api/telemetry 403',
      'operator POST /api/metadata 403',
      'operator PATCH /api/metadata/{nodeId} 403',
      'operator POST /api/transactions 403',
      'operator POST /api/devices/{thingName}/revoke 403',
      'operator POST /api/certificates/{certificateId}/deactivate 403',
      'operator POST /api/programs 403',
      'operator PATCH /api/programs/{programId} 403',
      'operator DELETE /api/programs/{programId} 403',
      'operator POST /api/telemetry/batch 403',
      'operator POST /api/telemetry/{nodeId} 403',
    ]);
    expect(outcomes.filter((o) => o.startsWith('admin') && o.endsWith('403'))).toEqual([]);
  });

  it('answers 401 without a token or with one that is no role’s, and serves /health without one', async () => {
    for (const route of (routes as readonly RouteDefinition[]).filter((r) => r.role !== 'public')) {
      expect((await stack.api(pathOf(route), { method: route.method, token: null })).status, routeKey(route)).toBe(401);
      expect(
        (await stack.api(pathOf(route), { method: route.method, token: `${stack.config.tokens.viewer}x` })).status,
      ).toBe(401);
    }
    expect((await stack.api('/health', { token: null })).status).toBe(200);
  });

  it('lets an operator send a command that a viewer may not', async () => {
    const body = post({ shed_kw: 1, duration_sec: 60 });
    expect(
      (await stack.api('/api/vens/ven-none/send-event', { ...body, token: stack.config.tokens.viewer })).status,
    ).toBe(403);
    expect(
      await stack.api('/api/vens/ven-none/send-event', { ...body, token: stack.config.tokens.operator }),
    ).toMatchObject({
      status: 404,
      body: { error: 'NotFound' },
    });
  });

  it('lets any of the three tokens watch the live feed (read only) and no other', async () => {
    const connect = (password: string) =>
      mqtt.connectAsync(stack.config.wsUrl, {
        username: 'operator',
        password,
        clientId: `operator-${Math.random().toString(16).slice(2)}`,
        reconnectPeriod: 0,
        protocolVersion: 4,
      });
    for (const role of ROLES) await (await connect(stack.config.tokens[role])).endAsync();
    await expect(connect('not-a-token')).rejects.toThrow(/Not authorized|Bad username or password/i);
  });
});

describe('secrets from before roles', () => {
  it('keep their token as the admin’s and gain a viewer and an operator token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vpp-secrets-'));
    const credentials = { accessKeyId: 'AKIAVPPLOCALOLD', secretAccessKey: 'old-secret' };
    await writeFile(join(dir, 'secrets.json'), JSON.stringify({ token: 'the-old-token', credentials }));
    const old = await startLocalStack({ dir, httpPort: 0, mqttPort: 0, fleet: false });
    try {
      expect(old.config.token).toBe('the-old-token');
      expect(old.config.tokens.admin).toBe('the-old-token');
      expect(old.config.credentials).toMatchObject(credentials);
      const saved = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8'));
      expect(saved.tokens).toEqual(old.config.tokens);
      expect(saved.tokens.viewer).not.toBe(saved.tokens.operator);
    } finally {
      await old.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
