// IoT Core custom authorizer of the operators' live feed. Env: USER_POOL_ID, USER_POOL_CLIENT_ID, IOT_ARN_PREFIX.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { IoTCustomAuthorizerEvent } from 'aws-lambda';
import { iotAuthorizerEnvSchema, loadEnvOf } from '../core/common/config.js';
import { logger } from '../core/common/logger.js';
import { authorizeOperator, operatorTokenVerifier, type AuthorizeDeps } from './authorize.js';

let deps: AuthorizeDeps | undefined;

// One verifier per container: it keeps the pool's JWKS between invocations.
function depsFromEnv(): AuthorizeDeps {
  if (!deps) {
    const env = loadEnvOf(iotAuthorizerEnvSchema);
    deps = {
      verifier: operatorTokenVerifier(env.USER_POOL_ID, env.USER_POOL_CLIENT_ID),
      iotArnPrefix: env.IOT_ARN_PREFIX,
    };
  }
  return deps;
}

export const handler = middy((event: IoTCustomAuthorizerEvent) => authorizeOperator(event, depsFromEnv())).use(
  injectLambdaContext(logger),
);
