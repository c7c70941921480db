// One typed client for the operator API. Errors carry the API's own message and field, for the forms to show.
import type { Session } from '../auth/session.js';
import type { ValidationErrorBody } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export class Api {
  /** Called on a 401: the session is no longer valid. */
  onUnauthorized: () => void = () => undefined;
  /** Called after every request: whether the API answered at all (any status) or could not be reached. */
  onReachability: (answered: boolean) => void = () => undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly session: Session,
  ) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return this.request<T>('GET', qs ? `${path}?${qs}` : path);
  }

  /** A command with an `Idempotency-Key`: sent again with the same key, the API answers the first response. */
  post<T>(path: string, body: unknown = {}, idempotencyKey?: string): Promise<T> {
    return this.request<T>('POST', path, body, idempotencyKey);
  }

  /** Every page of a list, up to `max` items. */
  async all<T>(path: string, query: Query = {}, max = 10_000): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined;
    do {
      const page = await this.get<{ items: T[]; next?: string }>(path, { ...query, limit: 1000, next });
      items.push(...page.items);
      next = page.next;
    } while (next && items.length < max);
    return items;
  }

  /** A body that is not JSON (a CSV download), as text. */
  text(path: string): Promise<string> {
    return this.send('GET', path);
  }

  /** A download link the API answers with (a presigned URL), asked for as JSON rather than followed. */
  async link(path: string): Promise<{ url: string; expiresAt: string }> {
    return JSON.parse(await this.send('GET', path, undefined, { accept: 'application/json' })) as {
      url: string;
      expiresAt: string;
    };
  }

  private async request<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const text = await this.send(method, path, body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<string> {
    const token = await this.session.token();
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...extraHeaders,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch {
      this.onReachability(false);
      throw new ApiError(0, 'The API cannot be reached: check your connection or that the platform is running.');
    }
    if (res.status === 401) this.onUnauthorized();
    const text = await res.text().catch(() => {
      this.onReachability(false);
      throw new ApiError(
        0,
        'The API stopped answering mid-response: check your connection or that the platform is running.',
      );
    });
    this.onReachability(res.status < 502 || res.status > 504); // a gateway's 502/503/504: the API behind it is down
    if (!res.ok) {
      const err = (text ? (JSON.parse(text) as unknown) : {}) as Partial<ValidationErrorBody>;
      throw new ApiError(res.status, err.message ?? `${method} ${path} answered ${res.status}`, err.field);
    }
    return text;
  }
}
