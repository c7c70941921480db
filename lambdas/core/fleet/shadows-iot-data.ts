// Shadow reads through the IoT data-plane API (AWS IoT Core in the cloud, the local shadow service locally).
import {
  GetThingShadowCommand,
  ResourceNotFoundException,
  type IoTDataPlaneClient,
} from '@aws-sdk/client-iot-data-plane';
import type { ShadowReader } from './registry.js';

export class IotDataShadowReader implements ShadowReader {
  constructor(private readonly client: IoTDataPlaneClient) {}

  async get(thingName: string) {
    try {
      const res = await this.client.send(new GetThingShadowCommand({ thingName }));
      return JSON.parse(new TextDecoder().decode(res.payload)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }
}
