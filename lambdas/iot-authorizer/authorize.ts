// The operators' live feed in AWS: an IoT Core custom authorizer that turns the dashboard's Cognito access token into
// a read-only IoT policy, so the browser reaches IoT over MQTT-over-WSS without AWS keys. The local broker enforces
// the same filters (bin/local/iot/broker.ts).
import type { IoTCustomAuthorizerEvent, IoTCustomAuthorizerResult, PolicyDocument } from 'aws-lambda';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { FetchError } from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { logger } from '../core/common/logger.js';
import { OPERATOR_CLIENT_PREFIX, operatorSubscribeFilters } from '../core/contracts/policy.js';

/** The query-string parameter of the WSS URL that carries the token (the authorizer name travels beside it). */
export const TOKEN_PARAMETER = 'token';
/** IoT re-runs the authorizer this often on an open connection (its minimum; also the floor of a connection's life). */
export const REFRESH_AFTER_SECONDS = 300;
/** IoT's bounds for `disconnectAfterInSeconds`. */
export const MIN_CONNECTION_SECONDS = 300;
export const MAX_CONNECTION_SECONDS = 86_400;

/** What the authorizer needs of a verified token. */
export interface VerifiedToken {
  readonly sub: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

export interface OperatorTokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/**
 * The dashboard's **access** token: it is the token OAuth meant for resource servers (the ID token is for the app
 * itself), its `client_id` names the dashboard client and its `token_use` is checked, so an ID token or a token of
 * another client of the pool is refused. The verifier caches the pool's JWKS for the life of the Lambda container.
 */
export function operatorTokenVerifier(
  userPoolId: string,
  clientId: string,
): OperatorTokenVerifier & { cacheJwks(jwks: Jwks): void } {
  return CognitoJwtVerifier.create({ userPoolId, clientId, tokenUse: 'access' });
}

const topicResource = (filter: string) => filter.replaceAll('+', '*');

/**
 * The operator's IoT policy: connect as `operator-*`, subscribe to exactly the operator filters (IoT policies take
 * `+` literally in `topicfilter/` resources, so `ven/ack/+` allows that filter and nothing wider such as `ven/ack/#`),
 * receive on the topics they match (`+` becomes the policy wildcard `*`), and nothing else: no publish, no shadow
 * or retained-message access.
 */
export function operatorPolicy(iotArnPrefix: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${iotArnPrefix}:client/${OPERATOR_CLIENT_PREFIX}*` },
      {
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: operatorSubscribeFilters.map((f) => `${iotArnPrefix}:topicfilter/${f}`),
      },
      {
        Effect: 'Allow',
        Action: 'iot:Receive',
        Resource: operatorSubscribeFilters.map((f) => `${iotArnPrefix}:topic/${topicResource(f)}`),
      },
    ],
  };
}

/**
 * The token: in the WSS URL's query string (`/mqtt?x-amz-customauthorizer-name=…&token=<jwt>`, which IoT hands over
 * as `protocolData.http.queryString`, "?name=value&…"), else as the MQTT CONNECT password (base64 in the event).
 */
export function tokenOf(event: Pick<IoTCustomAuthorizerEvent, 'protocolData'>): string | undefined {
  const query = event.protocolData?.http?.queryString;
  const fromQuery = query ? new URLSearchParams(query).get(TOKEN_PARAMETER) : null;
  if (fromQuery) return fromQuery;
  const password = event.protocolData?.mqtt?.password;
  const fromPassword = password ? Buffer.from(password, 'base64').toString('utf8').trim() : '';
  return fromPassword || undefined;
}

const denied: IoTCustomAuthorizerResult = {
  isAuthenticated: false,
  principalId: 'denied',
  disconnectAfterInSeconds: MIN_CONNECTION_SECONDS,
  refreshAfterInSeconds: REFRESH_AFTER_SECONDS,
  policyDocuments: [],
};

export interface AuthorizeDeps {
  readonly verifier: OperatorTokenVerifier;
  /** `arn:<partition>:iot:<region>:<account>` */
  readonly iotArnPrefix: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A valid, unexpired dashboard token → the read-only operator policy until the token expires (at most a day);
 * anything else → not authenticated. Only an unreachable JWKS throws, so that it shows as a Lambda error (alarm)
 * rather than as operators with bad tokens.
 */
export async function authorizeOperator(
  event: IoTCustomAuthorizerEvent,
  { verifier, iotArnPrefix, now = Date.now }: AuthorizeDeps,
): Promise<IoTCustomAuthorizerResult> {
  const connectionId = event.connectionMetadata?.id;
  const deny = (reason: string, error?: unknown) => {
    const detail = error instanceof Error ? `${error.constructor.name}: ${error.message}` : undefined;
    logger.warn('live feed connection refused', { reason, connectionId, error: detail });
    return { ...denied, policyDocuments: [] };
  };
  const token = tokenOf(event);
  if (!token) return deny('no token in the query string or the MQTT password');
  let payload: VerifiedToken;
  try {
    payload = await verifier.verify(token);
  } catch (err) {
    if (err instanceof FetchError) throw err;
    return deny('invalid token', err);
  }
  const secondsLeft = Math.floor(payload.exp - now() / 1000);
  // IoT holds a connection at least this long: a token about to expire must be refreshed before connecting.
  if (secondsLeft < MIN_CONNECTION_SECONDS) return deny(`token expires in ${secondsLeft} s`);
  // IoT allows only alphanumerics in principalId; Cognito's sub is a UUID.
  const principalId = payload.sub.replace(/[^a-zA-Z0-9]/g, '').slice(0, 128) || 'operator';
  return {
    isAuthenticated: true,
    principalId,
    disconnectAfterInSeconds: Math.min(secondsLeft, MAX_CONNECTION_SECONDS),
    refreshAfterInSeconds: REFRESH_AFTER_SECONDS,
    policyDocuments: [operatorPolicy(iotArnPrefix)],
  };
}
