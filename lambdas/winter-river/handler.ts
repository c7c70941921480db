import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { buildPowerSystem, rulePorts, topologyOf } from '../core/adapters.js';
import { loadEnvOf, powerEnvSchema } from '../core/common/config.js';
import { IotDataCommandPublisher } from '../core/commands/publisher-iot-data.js';
import { streamHandler } from '../core/ingest/stream-handler.js';
import { telemetryWriter } from '../core/timeseries/timeseries-store.js';
import * as z from 'zod';

// Beside the node statuses, the power system: its item, its topology, and IoT Core's data plane for the commands.
const envSchema = powerEnvSchema.extend({ IOT_DATA_ENDPOINT: z.string().url() });

export const handler = streamHandler(
  'winter-river',
  rulePorts(telemetryWriter, {
    power: (dynamodb) => {
      const env = loadEnvOf(envSchema);
      const publisher = new IotDataCommandPublisher(new IoTDataPlaneClient({ endpoint: env.IOT_DATA_ENDPOINT }));
      return buildPowerSystem(topologyOf(env), env.POWER_SYSTEM_TABLE, dynamodb, publisher);
    },
  }),
);
