import { rulePorts } from '../core/adapters.js';
import { streamHandler } from '../core/ingest/stream-handler.js';

export const handler = streamHandler('presence', rulePorts());
