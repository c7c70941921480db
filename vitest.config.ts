import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // In CI a failed test runs once more. With DynamoDB's lag on, a test that reads what another call wrote less than
    // 300 ms before fails only when the machine's timing lines up (each fresh-clone run found one or two new ones, each
    // fixed by waiting as a client must); a test that fails twice still fails the run, and vitest's report names every
    // retried test: each is a race to fix, not noise (docs/develop-local-aws-rules.md).
    retry: process.env.CI ? 1 : 0,
    // Vitest's default is one fewer than the cores: one file at a time on a 2-core machine. The files mostly wait on
    // stacks, brokers and devices, so two at a time there halves the run (about 330 s against 570 s on 2 cores).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // DynamoDB's eventual consistency is on, with the 300 ms lag `npm start` has: a read without ConsistentRead or an
    // index query sees a write only after it, as in AWS (docs/develop-local-aws-rules.md)
    env: {
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      VPP_DYNAMODB_LAG_MS: process.env.VPP_DYNAMODB_LAG_MS ?? '300',
    },
  },
});
