// The published contract: the OpenAPI 3.1 document generated from the route table validates, holds every route with
// its role, is served to anyone at /api/openapi.json, and the local front door's response check holds answers to it.
import { Validator } from '@seriousme/openapi-schema-validator';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontDoor } from '../../bin/local/http-server.js';
import { ResponseCheck } from '../../bin/local/response-check.js';
import { openApiDocument, routesWithoutContract, SECURITY_SCHEME } from '../../lambdas/api/openapi.js';
import { routes, type RouteDefinition } from '../../lambdas/api/routes.js';
import { shows, startApiStack, type ApiTestStack } from './stack.js';

type Operation = {
  security: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  parameters: { name: string; in: string }[];
  requestBody?: unknown;
};
const doc = openApiDocument();
const operationOf = (method: string, path: string) =>
  (doc.paths[path] as Record<string, Operation> | undefined)?.[method.toLowerCase()];

describe('the OpenAPI document', () => {
  it('validates as OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as Parameters<Validator['validate']>[0]);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has a contract (responses) for every route of the table', () => {
    const missing = routesWithoutContract();
    expect(missing, `routes without a contract in lambdas/api/contract.ts: ${missing.join(', ')}`).toEqual([]);
  });

  it('names a route added to the table without a contract, and leaves it out of the document', () => {
    const table: RouteDefinition[] = [...routes, { method: 'GET', path: '/api/brand-new/{id}', role: 'viewer' }];
    expect(routesWithoutContract(table)).toEqual(['GET /api/brand-new/{id}']);
    expect(openApiDocument(table).paths['/api/brand-new/{id}']).toBeUndefined();
  });

  it('holds every route with its role as the security requirement, public ones with none', () => {
    const schemes = Object.keys(doc.components.securitySchemes);
    expect(schemes).toEqual([SECURITY_SCHEME]);
    for (const route of routes) {
      const op = operationOf(route.method, route.path);
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      if (route.role === 'public') expect(op!.security, route.path).toEqual([]);
      else expect(op!.security, route.path).toEqual([{ [SECURITY_SCHEME]: [route.role] }]);
    }
    const operations = Object.values(doc.paths).flatMap((p) => Object.keys(p));
    expect(operations).toHaveLength(routes.length);
  });

  it('gives each route its path parameters, its body, a success schema and the errors it can answer', () => {
    for (const route of routes as readonly RouteDefinition[]) {
      const op = operationOf(route.method, route.path)!;
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(
        op.parameters.filter((p) => p.in === 'path').map((p) => p.name),
        route.path,
      ).toEqual(names);
      const success = Object.keys(op.responses).filter((s) => Number(s) < 400);
      expect(success.length, `${route.method} ${route.path}: a success response`).toBeGreaterThan(0);
      for (const s of success) {
        const schema = op.responses[s]!.content?.['application/json']?.schema;
        expect(schema, `${route.method} ${route.path} ${s}`).toBeDefined();
        expect(Object.keys(schema!).length, `${route.method} ${route.path} ${s}: not {}`).toBeGreaterThan(0);
      }
      if (route.role !== 'public')
        expect(Object.keys(op.responses), route.path).toEqual(expect.arrayContaining(['401', '403', '429']));
      if (names.length) expect(Object.keys(op.responses), route.path).toEqual(expect.arrayContaining(['400', '404']));
      if (route.method !== 'GET' && route.method !== 'DELETE')
        expect(op.requestBody, `${route.method} ${route.path}: a body`).toBeDefined();
      if (route.idempotent) {
        expect(
          op.parameters.map((p) => p.name),
          route.path,
        ).toContain('Idempotency-Key');
        expect(Object.keys(op.responses), route.path).toEqual(expect.arrayContaining(['409', '422']));
      }
    }
  });

  it('describes the request bodies the handlers parse: a misspelt field is refused', () => {
    const body = (
      operationOf('POST', '/api/events')!.requestBody as {
        content: Record<string, { schema: Record<string, unknown> }>;
      }
    ).content['application/json']!.schema;
    expect(body).toMatchObject({ type: 'object', required: ['shed_kw', 'duration_sec'], additionalProperties: false });
    expect(Object.keys(body.properties as object)).toEqual([
      'shed_kw',
      'duration_sec',
      'ven_ids',
      'program_id',
      'start_at',
      'name',
      'dry_run',
    ]);
  });
});

describe('the response check', () => {
  const venBody = { venId: 'ven-1', online: true, lastSeen: '2026-01-01T00:00:00.000Z' };

  it('passes an answer the document describes and records one that is not, naming the route and the field', () => {
    const check = new ResponseCheck();
    check.check('GET /api/vens/{venId}', 200, 'application/json', JSON.stringify(venBody));
    check.check(
      'GET /api/vens/{venId}',
      404,
      'application/json',
      JSON.stringify({ error: 'NotFound', message: 'VEN x' }),
    );
    expect(check.mismatches()).toEqual([]);
    check.check('GET /api/vens/{venId}', 200, 'application/json', JSON.stringify({ ...venBody, colour: 'red' }));
    check.check('GET /api/vens/{venId}', 200, 'application/json', JSON.stringify({ venId: 'ven-1' }));
    check.check('GET /api/vens/{venId}', 200, 'application/json', JSON.stringify({ ...venBody, online: 'yes' }));
    check.check('GET /api/vens/{venId}', 418, 'application/json', '{}');
    check.check('GET /api/vens/{venId}', 200, 'text/plain', 'ok');
    expect(check.mismatches().map((m) => [m.routeKey, m.status, m.problem])).toEqual([
      ['GET /api/vens/{venId}', 200, '(root) must NOT have additional properties: colour'],
      ['GET /api/vens/{venId}', 200, "(root) must have required property 'online'"],
      ['GET /api/vens/{venId}', 200, '/online must be boolean'],
      ['GET /api/vens/{venId}', 418, expect.stringMatching(/^status 418 is not one the document gives this route/)],
      ['GET /api/vens/{venId}', 200, 'content-type text/plain, not application/json'],
    ]);
  });

  it('catches a field the API answers that the document dropped', () => {
    const dropped = structuredClone(doc);
    const schema = (dropped.paths['/api/vens/{venId}'] as Record<string, Operation>).get!.responses['200']!.content![
      'application/json'
    ]!.schema as {
      properties: Record<string, unknown>;
    };
    delete schema.properties.lastSeen;
    const check = new ResponseCheck(dropped);
    check.check('GET /api/vens/{venId}', 200, 'application/json', JSON.stringify(venBody));
    expect(check.mismatches().map((m) => m.problem)).toEqual(['(root) must NOT have additional properties: lastSeen']);
  });

  describe('in the front door', () => {
    let server: Server;
    let base: string;
    let answer: { statusCode: number; body: string };
    const check = new ResponseCheck();
    const tokens = { viewer: 'v', operator: 'o', admin: 'a' };

    beforeAll(async () => {
      server = createServer(
        frontDoor({
          tokens,
          api: async () => ({ ...answer, headers: { 'content-type': 'application/json' } }),
          dataPlane: async () => false,
          health: async () => ({}),
          webDir: '/nonexistent',
          dashboardConfig: { mode: 'local', apiUrl: '', wsUrl: '' },
          onApiAnswer: (key, status, type, body) => check.check(key, status, type, body),
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("checks every answer of a route, the gateway's 401 included, and still answers the caller", async () => {
      answer = { statusCode: 200, body: JSON.stringify(venBody) };
      expect((await fetch(`${base}/api/vens/ven-1`, { headers: { authorization: 'Bearer v' } })).status).toBe(200);
      expect((await fetch(`${base}/api/vens/ven-1`)).status).toBe(401);
      expect(check.mismatches()).toEqual([]);
      answer = { statusCode: 200, body: JSON.stringify({ venId: 'ven-1' }) };
      const res = await fetch(`${base}/api/vens/ven-1`, { headers: { authorization: 'Bearer v' } });
      expect(res.status).toBe(200);
      expect(check.mismatches()).toEqual([
        expect.objectContaining({
          routeKey: 'GET /api/vens/{venId}',
          status: 200,
          problem: "(root) must have required property 'online'",
        }),
      ]);
    });
  });
});

describe('GET /api/openapi.json on the local stack', () => {
  let stack: ApiTestStack;
  beforeAll(async () => {
    stack = await startApiStack();
  });
  afterAll(() => stack?.dispose());

  it('is public and cacheable, and is the generated document', async () => {
    const res = await fetch(`${stack.config.apiUrl}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual(doc);
  });

  it('describes what the running stack answers (the response check is on: a mismatch fails the file)', async () => {
    expect((await stack.api('/api/vens')).status).toBe(200);
    expect((await stack.api('/api/portfolio')).status).toBe(200);
    expect((await stack.api('/api/vens/nobody')).status).toBe(404);
    expect((await stack.api('/api/vens', { token: null })).status).toBe(401);
    expect((await stack.api('/health', { token: null })).status).toBe(200);
    // the DER reads, on the inventory the API stack loads
    // the inventory the stack loaded shows in the listing (an index) a moment after it is written, in AWS too
    let assets: { asset_id: string; site_id: string }[] = [];
    await shows(async () => {
      assets = (await stack.api('/api/assets')).body.items;
      expect(assets.length).toBeGreaterThan(0);
    });
    for (const path of [
      `/api/assets/${assets[0]!.asset_id}`,
      `/api/assets/${assets[0]!.asset_id}/telemetry`,
      `/api/sites/${assets[0]!.site_id}`,
      '/api/agents',
    ]) {
      expect((await stack.api(path)).status, path).toBe(200);
    }
    expect(stack.responseMismatches()).toEqual([]);
  });
});
