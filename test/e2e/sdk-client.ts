// A device as the tests drive it: the real aws-iot-device-sdk-v2 MQTT 3.1.1 client over mutual TLS.
import { iot, mqtt } from 'aws-iot-device-sdk-v2';

export interface DeviceFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
  endpoint: string;
  port: number;
}

export interface TestDevice {
  readonly connection: mqtt.MqttClientConnection;
  readonly received: { topic: string; payload: string }[];
  readonly interrupted: () => boolean;
  publish(topic: string, payload: string, qos?: mqtt.QoS): Promise<void>;
  subscribe(filter: string): Promise<mqtt.MqttSubscribeRequest>;
  close(): Promise<void>;
}

const client = new mqtt.MqttClient();

export async function connectDevice(files: DeviceFiles, clientId: string): Promise<TestDevice> {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(files.certFile, files.keyFile)
    .with_certificate_authority_from_path(undefined, files.caFile)
    .with_endpoint(files.endpoint)
    .with_port(files.port)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(30)
    .with_reconnect_min_sec(30)
    .with_reconnect_max_sec(60)
    .build();
  const connection = client.new_connection(config);
  const received: { topic: string; payload: string }[] = [];
  let interrupted = false;
  connection.on('interrupt', () => {
    interrupted = true;
  });
  await connection.connect();
  return {
    connection,
    received,
    interrupted: () => interrupted,
    async publish(topic, payload, qos = mqtt.QoS.AtLeastOnce) {
      await connection.publish(topic, payload, qos);
    },
    subscribe: (filter) =>
      connection.subscribe(filter, mqtt.QoS.AtLeastOnce, (topic, payload) => {
        received.push({ topic, payload: new TextDecoder().decode(payload) });
      }),
    async close() {
      // disconnect() never settles on a connection the broker already dropped
      await Promise.race([connection.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      connection.removeAllListeners();
    },
  };
}
