// Every AWS call a deployed function's code makes in the local stack, recorded as IAM sees it in AWS: the function
// (by the SDK client it used: each function gets its own), the IAM action and the resource ARN as it would be in the
// deployed stack. Resource names are symbolic where the deployed stack generates them: `${env:DEVICES_TABLE}` is
// the table the function's DEVICES_TABLE names, `${AWS::Region}` and `${AWS::AccountId}` the stack's; test/iam/
// resolves the synthesized role policies to the same form and evaluates every call against them.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { S3Client } from '@aws-sdk/client-s3';
import type { CommandPublisher } from '../../../lambdas/core/commands/command-store.js';
import type { ErrorSink } from '../../../lambdas/core/ingest/ingest-ports.js';
import { IotDataCommandPublisher } from '../../../lambdas/core/commands/publisher-iot-data.js';

/** The deployed functions whose calls are recorded, named as their `lambdas/` folder. */
export type DeployedFunction =
  | 'api'
  | 'metering'
  | 'ack'
  | 'presence'
  | 'der'
  | 'edge'
  | 'winter-river'
  | 'command-timeouts'
  | 'rollups'
  | 'provisioning-hook';

export interface AwsCall {
  readonly fn: DeployedFunction;
  /** The IAM action, e.g. `dynamodb:Query`. */
  readonly action: string;
  /** The resource ARN as in the deployed stack, with symbolic names (see above). */
  readonly resource: string;
}

export interface AwsCallsOptions {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The local DynamoDB: each function's client goes to its endpoint through its client's HTTP handler (one pool of sockets, as before). */
  readonly dynamodb: { readonly endpoint: string; readonly client: DynamoDBClient };
  /**
   * The local value of each name a deployed function reads from its environment (a table name, the device policy):
   * `vpp-devices` → `DEVICES_TABLE`. Recorded as `${env:DEVICES_TABLE}`.
   */
  readonly environment: Record<string, string>;
}

/** A command's input as the SDK middleware sees it: read field by field, each checked where it is used. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the inputs of every SDK command, read by name
type AwsInput = Record<string, any>;

const ARN = (service: string, rest: string) => `arn:aws:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`;

interface FunctionClients {
  dynamodb?: DynamoDBClient;
  iotData?: IoTDataPlaneClient;
  iot?: IoTClient;
  s3?: S3Client;
}

export class AwsCalls {
  private readonly seen = new Map<string, AwsCall>();
  /** By function; `undefined`: clients that record nothing, for tests and tools that drive the stores directly. */
  private readonly clients = new Map<DeployedFunction | undefined, FunctionClients>();
  private dataPlaneEndpoint?: string;
  private s3Endpoint?: string;

  constructor(private readonly o: AwsCallsOptions) {}

  /** Every distinct call recorded so far. */
  all(): AwsCall[] {
    return [...this.seen.values()];
  }

  record(fn: DeployedFunction, action: string, resource: string): void {
    const key = `${fn} ${action} ${resource}`;
    if (!this.seen.has(key)) this.seen.set(key, { fn, action, resource });
  }

  /** The IoT clients' sockets; the DynamoDB clients share the local DynamoDB client's, closed with it. */
  destroy(): void {
    for (const c of this.clients.values()) {
      c.iotData?.destroy();
      c.iot?.destroy();
      c.s3?.destroy();
    }
  }

  /** Where the IoT data plane and the IoT control plane are served (the local HTTP server), once it listens. */
  listening(baseUrl: string): void {
    this.dataPlaneEndpoint = baseUrl;
  }

  /** Where the local S3 listens, once it does. */
  s3Listening(endpoint: string): void {
    this.s3Endpoint = endpoint;
  }

  /**
   * The function's S3 client (path-style, on the local S3). An object call is authorized on the object's ARN, which
   * has no region or account: `arn:aws:s3:::${env:REPORTS_BUCKET}/events/e1/report.csv`. A presigned URL runs the
   * same middleware without sending, so the API's presigned GET is recorded as the `s3:GetObject` it lends.
   */
  s3(fn: DeployedFunction | undefined): S3Client {
    const c = this.of(fn);
    if (!c.s3) {
      if (!this.s3Endpoint) throw new Error('the local S3 is not listening yet');
      c.s3 = new S3Client({
        endpoint: this.s3Endpoint,
        forcePathStyle: true,
        region: this.o.region,
        credentials: this.o.credentials,
      });
      if (fn)
        this.recordOn(c.s3, fn, (command, input) => [
          [
            `s3:${command}`,
            `arn:aws:s3:::${this.named(input.Bucket)}${input.Key === undefined ? '' : `/${input.Key}`}`,
          ],
        ]);
    }
    return c.s3;
  }

  dynamodb(fn: DeployedFunction | undefined): DynamoDBClient {
    const c = this.of(fn);
    if (!c.dynamodb) {
      const { endpoint, client } = this.o.dynamodb;
      c.dynamodb = new DynamoDBClient({
        endpoint,
        region: client.config.region,
        credentials: client.config.credentials,
        maxAttempts: client.config.maxAttempts,
        requestHandler: client.config.requestHandler,
      });
      if (fn) this.recordOn(c.dynamodb, fn, (command, input) => this.dynamodbCalls(command, input));
    }
    return c.dynamodb;
  }

  iotData(fn: DeployedFunction | undefined): IoTDataPlaneClient {
    const c = this.of(fn);
    if (!c.iotData) {
      c.iotData = new IoTDataPlaneClient({
        endpoint: this.endpoint(),
        region: this.o.region,
        credentials: this.o.credentials,
      });
      if (fn) this.recordOn(c.iotData, fn, (command, input) => [[`iot:${command}`, iotDataResource(command, input)]]);
    }
    return c.iotData;
  }

  iot(fn: DeployedFunction | undefined): IoTClient {
    const c = this.of(fn);
    if (!c.iot) {
      c.iot = new IoTClient({ endpoint: this.endpoint(), region: this.o.region, credentials: this.o.credentials });
      if (fn) this.recordOn(c.iot, fn, (command, input) => [[`iot:${command}`, this.iotResource(command, input)]]);
    }
    return c.iot;
  }

  /** Publishes through the function's IoT data-plane client, made once the HTTP server listens. */
  publisher(fn: DeployedFunction | undefined): CommandPublisher {
    let publisher: CommandPublisher | undefined;
    return { publish: (...args) => (publisher ??= new IotDataCommandPublisher(this.iotData(fn))).publish(...args) };
  }

  /**
   * The dead-letter queue a deployed rule function sends refusals to (`ERROR_QUEUE_URL`): locally `sink` takes them
   * (the error file), and the SendMessage the function would make is recorded.
   */
  deadLetterQueue(fn: DeployedFunction, sink: ErrorSink): ErrorSink {
    return {
      reject: (rejection) => {
        this.record(fn, 'sqs:SendMessage', ARN('sqs', '${env:ERROR_QUEUE_URL}'));
        return sink.reject(rejection);
      },
    };
  }

  private of(fn: DeployedFunction | undefined): FunctionClients {
    let c = this.clients.get(fn);
    if (!c) this.clients.set(fn, (c = {}));
    return c;
  }

  private endpoint(): string {
    if (!this.dataPlaneEndpoint) throw new Error('the local IoT endpoints are not listening yet');
    return this.dataPlaneEndpoint;
  }

  private recordOn(
    client: { middlewareStack: { add: (mw: never, opts: { step: 'initialize'; name: string }) => void } },
    fn: DeployedFunction,
    calls: (command: string, input: AwsInput) => [action: string, resource: string][],
  ): void {
    client.middlewareStack.add(
      ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: { input: AwsInput }) => {
          const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
          for (const [action, resource] of calls(command, args.input)) this.record(fn, action, resource);
          return next(args);
        }) as never,
      { step: 'initialize', name: 'recordAwsCall' },
    );
  }

  private named(value: string): string {
    const env = this.o.environment[value];
    return env ? `\${env:${env}}` : value;
  }

  private table(name: string, index?: string): string {
    return ARN('dynamodb', `table/${this.named(name)}${index ? `/index/${index}` : ''}`);
  }

  /** A transaction is authorized item by item; a batch table by table. */
  private dynamodbCalls(command: string, input: AwsInput): [string, string][] {
    if (command === 'BatchWriteItem' || command === 'BatchGetItem') {
      return Object.keys(input.RequestItems ?? {}).map((t) => [`dynamodb:${command}`, this.table(t)]);
    }
    if (command === 'TransactWriteItems' || command === 'TransactGetItems') {
      const ITEM = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      } as const;
      return (input.TransactItems ?? []).flatMap((item: Record<string, { TableName: string }>) =>
        Object.entries(item).map(
          ([kind, op]) =>
            [`dynamodb:${ITEM[kind as keyof typeof ITEM] ?? kind}`, this.table(op.TableName)] as [string, string],
        ),
      );
    }
    const index = command === 'Query' || command === 'Scan' ? input.IndexName : undefined;
    return [[`dynamodb:${command}`, this.table(input.TableName ?? '(no table)', index)]];
  }

  private iotResource(command: string, input: AwsInput): string {
    switch (command) {
      case 'UpdateCertificate':
      case 'DescribeCertificate':
        return ARN('iot', `cert/${input.certificateId}`);
      // the principal (a certificate ARN) is the resource these two are authorized on
      case 'DetachPolicy':
        return symbolicIotArn(input.target);
      case 'DetachThingPrincipal':
        return symbolicIotArn(input.principal);
      default:
        if (input.thingName) return ARN('iot', `thing/${input.thingName}`);
        if (input.policyName) return ARN('iot', `policy/${this.named(input.policyName)}`);
        return '*';
    }
  }
}

function iotDataResource(command: string, input: AwsInput): string {
  if (command === 'Publish') return ARN('iot', `topic/${input.topic}`);
  if (input.thingName) return ARN('iot', `thing/${input.thingName}`);
  return '*';
}

/** `arn:aws:iot:us-east-1:000000000000:cert/abc` as the deployed stack's `arn:aws:iot:${AWS::Region}:${AWS::AccountId}:cert/abc`. */
function symbolicIotArn(arn: string): string {
  const m = /^arn:[^:]+:iot:[^:]*:[^:]*:(.+)$/.exec(arn);
  return m ? ARN('iot', m[1]!) : arn;
}
