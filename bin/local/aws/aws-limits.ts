// AWS's runtime limits that the local front door enforces, each with the answer AWS gives when it is crossed and the
// page that documents it (docs/reference-limits.md lists them, with what is not modelled). On by default: a green
// local run then means a request that fits in AWS.

/** What API Gateway answers a client with when a limit is crossed (HTTP API's own JSON bodies). */
export interface LimitAnswer {
  readonly status: number;
  readonly body: { readonly message: string };
}

export const HTTP_API_LIMITS = {
  /**
   * Request payload: 10 MB, counted as 10,485,760 bytes.
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html ("Payload size 10 MB")
   */
  requestBytes: 10 * 1024 * 1024,
  /**
   * Maximum integration timeout: 30 seconds, not raisable; the API then answers 503 while the function may still run.
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html ("Maximum integration timeout")
   */
  integrationTimeoutMs: 30_000,
} as const;

export const LAMBDA_LIMITS = {
  /**
   * Synchronous invocation payload, request: the event API Gateway builds (headers, path, the body as a JSON string)
   * must be smaller than 6 MB; Lambda's RequestEntityTooLargeException says "smaller than 6291456 bytes".
   * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html ("Invocation payload (request and response)")
   */
  invokeRequestBytes: 6 * 1024 * 1024,
  /**
   * Synchronous invocation payload, response: the handler's return value serialized as JSON (statusCode, headers and
   * the body string with its escapes), at most 6,291,556 bytes, or Lambda fails the call with
   * Function.ResponseSizeTooLarge ("Response payload size exceeded maximum allowed payload size (6291556 bytes)").
   * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
   */
  invokeResponseBytes: 6_291_556,
  /**
   * Asynchronous invocation payload: 1 MB (256 KB before October 2025). Nothing in this platform invokes a function
   * asynchronously with data: the schedules send EventBridge's fixed scheduled event, the rules act into Kinesis.
   * https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html
   */
  invokeAsyncBytes: 1024 * 1024,
} as const;

/** The answers of an HTTP API with a Lambda proxy integration (payload format 2.0). */
export const HTTP_API_ANSWERS = {
  /** The body over 10 MB, or the event over Lambda's 6 MB. */
  tooLarge: { status: 413, body: { message: 'Request Entity Too Large' } },
  /** The integration did not answer within its timeout. */
  timedOut: { status: 503, body: { message: 'Service Unavailable' } },
  /** A function error (Function.ResponseSizeTooLarge among them): HTTP APIs answer 500, REST APIs 502. */
  functionError: { status: 500, body: { message: 'Internal Server Error' } },
} as const satisfies Record<string, LimitAnswer>;

/** The limits one front door holds; tests shorten the timeout rather than wait 30 s. */
export interface ApiLimits {
  readonly requestBytes: number;
  readonly integrationTimeoutMs: number;
  readonly invokeRequestBytes: number;
  readonly invokeResponseBytes: number;
}

export const AWS_API_LIMITS: ApiLimits = {
  requestBytes: HTTP_API_LIMITS.requestBytes,
  integrationTimeoutMs: HTTP_API_LIMITS.integrationTimeoutMs,
  invokeRequestBytes: LAMBDA_LIMITS.invokeRequestBytes,
  invokeResponseBytes: LAMBDA_LIMITS.invokeResponseBytes,
};

/** The size Lambda counts for an invocation payload: the value as JSON, in UTF-8 bytes. */
export const payloadBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
