import { rulePorts } from '../core/adapters.js';
import { ingestByHandler, ruleHandler } from '../core/rule-handler.js';

export const handler = ruleHandler(ingestByHandler.presence, rulePorts());
