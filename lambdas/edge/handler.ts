import { rulePorts } from '../core/adapters.js';
import { streamHandler } from '../core/ingest/stream-handler.js';
import { telemetryWriter } from '../core/timeseries/timeseries-store.js';

export const handler = streamHandler('edge', rulePorts(telemetryWriter, { ledger: true }));
