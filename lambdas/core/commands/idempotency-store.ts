// The idempotency port: a request's first response, kept for a retry under the same `Idempotency-Key`.

/** The first response to an `Idempotency-Key`, kept for a retry to get again. */
export interface StoredResponse {
  readonly statusCode: number;
  /** The JSON body as sent. */
  readonly body: string;
}

export interface IdempotencyClaim {
  /** A hash of the request (method, path, body): the same key with another request is refused. */
  readonly fingerprint: string;
  /** Done: the first response. Absent: the first request is still under way. */
  readonly response?: StoredResponse;
}

/** Idempotency keys, each scoped to one caller, kept 24 h from the first request. */
export interface IdempotencyStore {
  /**
   * Claims `key` for a request as `owner`: true when this request may run (the key is new, expired, or held by a
   * request that stopped answering before `staleAfterMs`); false when another holds or completed it.
   */
  claim(key: string, owner: string, fingerprint: string, now: number, staleAfterMs: number): Promise<boolean>;
  /** The key's claim, unless it has expired by `now`. */
  get(key: string, now: number): Promise<IdempotencyClaim | undefined>;
  /** Keeps the response for retries; only the owner may. */
  complete(key: string, owner: string, response: StoredResponse): Promise<void>;
  /** Gives the key up (the request failed and sent nothing), so a retry runs afresh; only the owner may. */
  release(key: string, owner: string): Promise<void>;
}
