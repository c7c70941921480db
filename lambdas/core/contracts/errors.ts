// Domain errors: each maps to one HTTP status (see the API handler) or one error-sink reason.

/** Bad input: 400, the body names the field. */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** Unknown id: 404. */
export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** The time-series store refused records; retrying will not help. */
export class RejectedRecordsError extends Error {
  constructor(readonly rejected: readonly { index: number; reason: string }[]) {
    super(`${rejected.length} record(s) rejected: ${rejected.map((r) => `#${r.index} ${r.reason}`).join('; ')}`);
    this.name = 'RejectedRecordsError';
  }
}

/** The caller's role is below the route's: 403. */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** The request conflicts with one still under way (the same `Idempotency-Key`: retry later) or with stored data: 409. */
export class ConflictError extends Error {
  constructor(
    message: string,
    /** The field whose value conflicts, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Well-formed but not processable as asked (an `Idempotency-Key` reused for another request): 422. */
export class UnprocessableError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnprocessableError';
  }
}
