import { rulePorts } from '../core/adapters.js';
import { streamHandler } from '../core/stream-handler.js';

export const handler = streamHandler('ack', rulePorts(undefined, { ledger: true }));
