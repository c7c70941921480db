import { rulePorts } from '../core/adapters.js';
import { streamHandler } from '../core/stream-handler.js';
import { telemetryWriter } from '../core/timeseries-store.js';

export const handler = streamHandler('der', rulePorts(telemetryWriter, { inventory: true }));
