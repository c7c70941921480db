// One structured logger per process (Powertools): JSON lines with correlationId and venId, never key material.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'vpp' });
