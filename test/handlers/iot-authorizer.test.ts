// The live feed's IoT custom authorizer against real Cognito-shaped JWTs: signed here with a fresh RSA key whose JWKS
// the verifier is given up front, so nothing goes to the network.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { IoTCustomAuthorizerEvent } from 'aws-lambda';
import type { Jwk } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  authorizeOperator,
  operatorTokenVerifier,
  tokenOf,
  type OperatorTokenVerifier,
} from '../../lambdas/iot-authorizer/authorize.js';

const USER_POOL_ID = 'eu-west-1_TestPool1';
const CLIENT_ID = 'dashboardclient123';
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${USER_POOL_ID}`;
const ARN = 'arn:aws:iot:eu-west-1:123456789012';
const SUB = '8f0e6a1c-3b1d-4c2a-9e7f-0123456789ab';
const NOW = Date.UTC(2026, 0, 1);

let privateKey: KeyObject;
let verifier: OperatorTokenVerifier;
let verifyErrors: string[] = [];

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const cognito = operatorTokenVerifier(USER_POOL_ID, CLIENT_ID);
  cognito.cacheJwks({ keys: [jwk as Jwk] });
  const verify = cognito.verify.bind(cognito);
  // Each denial must come from the check it is about, not from a token built wrong.
  verifier = {
    verify: (token) =>
      verify(token).catch((err: Error) => {
        verifyErrors.push(err.constructor.name);
        throw err;
      }),
  };
});

const b64url = (value: object | Buffer) =>
  (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

/** A Cognito access token of the dashboard client, valid for an hour from now, with `claims` overriding. */
function accessToken(claims: Record<string, unknown> = {}): string {
  const nowSec = Math.floor(Date.now() / 1000);
  const header = b64url({ kid: 'test-key', alg: 'RS256', typ: 'JWT' });
  const payload = b64url({
    sub: SUB,
    iss: ISSUER,
    client_id: CLIENT_ID,
    origin_jti: 'o',
    token_use: 'access',
    scope: 'openid email profile',
    auth_time: nowSec,
    iat: nowSec,
    exp: nowSec + 3600,
    jti: 'j',
    username: SUB,
    ...claims,
  });
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

const overWss = (token: string): IoTCustomAuthorizerEvent => ({
  signatureVerified: false,
  protocols: ['tls', 'http', 'mqtt'],
  protocolData: {
    tls: { serverName: 'example-ats.iot.eu-west-1.amazonaws.com' },
    http: { headers: {}, queryString: `?x-amz-customauthorizer-name=VppLiveFeed&token=${token}` },
    mqtt: { clientId: 'operator-4f9a' },
  },
  connectionMetadata: { id: 'c0ffee' },
});

const withPassword = (token: string): IoTCustomAuthorizerEvent => ({
  signatureVerified: false,
  protocols: ['tls', 'mqtt'],
  protocolData: {
    mqtt: { username: 'operator', password: Buffer.from(token).toString('base64'), clientId: 'operator-1' },
  },
  connectionMetadata: { id: 'c0ffee' },
});

const authorize = (event: IoTCustomAuthorizerEvent) => authorizeOperator(event, { verifier, iotArnPrefix: ARN });

const READ_ONLY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/operator-*` },
    {
      Effect: 'Allow',
      Action: 'iot:Subscribe',
      Resource: [
        `${ARN}:topicfilter/volttron/metering`,
        `${ARN}:topicfilter/ven/telemetry/+`,
        `${ARN}:topicfilter/der/telemetry/+`,
        `${ARN}:topicfilter/ven/ack/+`,
        `${ARN}:topicfilter/winter-river/+/status`,
        `${ARN}:topicfilter/$aws/things/+/shadow/update/documents`,
      ],
    },
    {
      Effect: 'Allow',
      Action: 'iot:Receive',
      Resource: [
        `${ARN}:topic/volttron/metering`,
        `${ARN}:topic/ven/telemetry/*`,
        `${ARN}:topic/der/telemetry/*`,
        `${ARN}:topic/ven/ack/*`,
        `${ARN}:topic/winter-river/*/status`,
        `${ARN}:topic/$aws/things/*/shadow/update/documents`,
      ],
    },
  ],
};

describe('the live feed authorizer', () => {
  it('given a valid dashboard access token in the WSS query string, allows exactly the read-only operator policy', async () => {
    const result = await authorize(overWss(accessToken()));
    expect(result).toEqual({
      isAuthenticated: true,
      principalId: SUB.replaceAll('-', ''),
      disconnectAfterInSeconds: expect.any(Number),
      refreshAfterInSeconds: 300,
      policyDocuments: [READ_ONLY_POLICY],
    });
    expect(result.disconnectAfterInSeconds).toBeGreaterThan(3590);
    expect(result.disconnectAfterInSeconds).toBeLessThanOrEqual(3600);
    expect(JSON.stringify(result.policyDocuments[0]).length).toBeLessThanOrEqual(2048); // IoT's limit per document
  });

  it('given the token as the MQTT password (base64 in the event), allows the same policy', async () => {
    const result = await authorize(withPassword(accessToken()));
    expect(result).toMatchObject({ isAuthenticated: true, policyDocuments: [READ_ONLY_POLICY] });
  });

  it('keeps the connection no longer than the token lives, and at most a day', async () => {
    const clock = () => NOW;
    const nowSec = NOW / 1000;
    const short = await authorizeOperator(overWss('t'), {
      verifier: { verify: async () => ({ sub: SUB, exp: nowSec + 900 }) },
      iotArnPrefix: ARN,
      now: clock,
    });
    expect(short.disconnectAfterInSeconds).toBe(900);
    const long = await authorizeOperator(overWss('t'), {
      verifier: { verify: async () => ({ sub: SUB, exp: nowSec + 7 * 86_400 }) },
      iotArnPrefix: ARN,
      now: clock,
    });
    expect(long.disconnectAfterInSeconds).toBe(86_400);
    // IoT holds a connection at least 300 s: a token with less left is refused (the browser refreshes first).
    const expiring = await authorizeOperator(overWss('t'), {
      verifier: { verify: async () => ({ sub: SUB, exp: nowSec + 299 }) },
      iotArnPrefix: ARN,
      now: clock,
    });
    expect(expiring.isAuthenticated).toBe(false);
  });

  it.each([
    ['an expired token', () => accessToken({ exp: Math.floor(Date.now() / 1000) - 60 }), 'JwtExpiredError'],
    [
      'a token of another app client',
      () => accessToken({ client_id: 'someotherclient' }),
      'CognitoJwtInvalidClientIdError',
    ],
    [
      'an ID token of the dashboard client',
      () => accessToken({ token_use: 'id', aud: CLIENT_ID }),
      'CognitoJwtInvalidTokenUseError',
    ],
    [
      'a token of another user pool',
      () => accessToken({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' }),
      'ParameterValidationError', // aws-jwt-verify: an issuer it was not configured for
    ],
    [
      'a token with a forged signature',
      () => `${accessToken().split('.').slice(0, 2).join('.')}.${b64url(Buffer.alloc(256))}`,
      'JwtInvalidSignatureError',
    ],
    ['garbage', () => 'not-a-jwt', 'JwtParseError'],
    ['no token', () => '', undefined],
  ])('given %s, denies', async (_name, token, error) => {
    for (const event of [overWss(token()), withPassword(token())]) {
      verifyErrors = [];
      expect(await authorize(event)).toMatchObject({ isAuthenticated: false, policyDocuments: [] });
      expect(verifyErrors).toEqual(error ? [error] : []);
    }
  });

  it('reads the token from the query string before the password, and from either alone', () => {
    expect(
      tokenOf({
        protocolData: { http: { headers: {}, queryString: '?x-amz-customauthorizer-name=a&token=abc.def.ghi' } },
      }),
    ).toBe('abc.def.ghi');
    expect(
      tokenOf({ protocolData: { mqtt: { clientId: 'operator-1', password: Buffer.from('xyz').toString('base64') } } }),
    ).toBe('xyz');
    expect(
      tokenOf({ protocolData: { http: { headers: {}, queryString: '?x-amz-customauthorizer-name=a' } } }),
    ).toBeUndefined();
    expect(tokenOf({ protocolData: {} })).toBeUndefined();
  });
});

describe('the live feed authorizer Lambda', () => {
  afterAll(() => vi.unstubAllEnvs());

  it('given its environment, wires the verifier and refuses a bad token without calling anything', async () => {
    for (const [k, v] of Object.entries({ USER_POOL_ID, USER_POOL_CLIENT_ID: CLIENT_ID, IOT_ARN_PREFIX: ARN }))
      vi.stubEnv(k, v);
    const { handler } = await import('../../lambdas/iot-authorizer/handler.js');
    const context = { functionName: 'authorizer', awsRequestId: 'r1', getRemainingTimeInMillis: () => 5000 };
    expect(await handler(overWss('not-a-jwt'), context as never)).toMatchObject({ isAuthenticated: false });
  });
});
