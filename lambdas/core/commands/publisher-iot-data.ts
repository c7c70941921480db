// Commands leave through the IoT data-plane Publish API: AWS IoT Core in the cloud, the local data plane locally.
import { PublishCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { CommandPublisher } from './command-store.js';

export class IotDataCommandPublisher implements CommandPublisher {
  constructor(private readonly client: IoTDataPlaneClient) {}

  async publish(topic: string, payload: string, qos: 0 | 1) {
    await this.client.send(new PublishCommand({ topic, qos, payload: new TextEncoder().encode(payload) }));
  }
}
