import { rulePorts } from '../core/adapters.js';
import { ingestByHandler, ruleHandler } from '../core/rule-handler.js';
import { telemetryWriter } from '../core/timeseries-store.js';

export const handler = ruleHandler(ingestByHandler['winter-river'], rulePorts(telemetryWriter));
