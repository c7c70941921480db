// The local front door's response check (opt-in; the test stacks switch it on): every answer of a route is held to
// the published OpenAPI document (lambdas/api/openapi.ts), its status and its JSON body against that status's schema.
// A mismatch is recorded, not thrown: the caller still gets the answer, and the test fails when it stops the stack
// (test/e2e/helpers.ts), naming the route, the status and what did not match.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { openApiDocument, type OpenApiDocument } from '../../lambdas/api/openapi.js';

export interface ResponseMismatch {
  readonly routeKey: string;
  readonly status: number;
  readonly problem: string;
  /** The start of the body, to see what was answered. */
  readonly body: string;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export class ResponseCheck {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction | undefined>();
  private readonly found: ResponseMismatch[] = [];

  constructor(private readonly document: OpenApiDocument = openApiDocument()) {
    this.ajv.addSchema({ ...document, $id: 'openapi.json' });
  }

  /** Checks one answer of the route `routeKey` (`GET /api/vens/{venId}`). */
  check(routeKey: string, status: number, contentType: string | undefined, body: string): void {
    const mismatch = this.problemOf(routeKey, status, contentType, body);
    if (mismatch) this.found.push({ routeKey, status, problem: mismatch, body: body.slice(0, 300) });
  }

  mismatches(): readonly ResponseMismatch[] {
    return this.found;
  }

  private problemOf(
    routeKey: string,
    status: number,
    contentType: string | undefined,
    body: string,
  ): string | undefined {
    const [method, path] = routeKey.split(' ') as [string, string];
    const operation = (
      this.document.paths[path] as Record<string, { responses: Record<string, unknown> }> | undefined
    )?.[method.toLowerCase()];
    if (!operation) return 'the route is not in the document: give it a contract in lambdas/api/contract.ts';
    if (!operation.responses[status])
      return `status ${status} is not one the document gives this route (${Object.keys(operation.responses).join(', ')})`;
    if (!contentType?.startsWith('application/json'))
      return `content-type ${contentType ?? '(none)'}, not application/json`;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return 'the body is not JSON';
    }
    const validate = this.validator(path, method.toLowerCase(), status);
    if (!validate) return 'the document has no schema for this status';
    if (validate(value)) return undefined;
    return (validate.errors ?? [])
      .map(
        (e) =>
          `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
      )
      .join('; ');
  }

  private validator(path: string, method: string, status: number): ValidateFunction | undefined {
    const ref = `openapi.json#/${pointer('paths', path, method, 'responses', String(status), 'content', 'application/json', 'schema')}`;
    if (!this.validators.has(ref)) this.validators.set(ref, this.ajv.getSchema(ref));
    return this.validators.get(ref);
  }
}

export function describeMismatches(mismatches: readonly ResponseMismatch[]): string {
  return mismatches.map((m) => `${m.routeKey} → ${m.status}: ${m.problem}\n    body: ${m.body}`).join('\n');
}
