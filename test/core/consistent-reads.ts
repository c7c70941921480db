// For tests of an adapter's layout (what it writes, and that it reads it back whole), not of when a write shows: a
// client on the same local DynamoDB whose base-table reads are strongly consistent, as `ConsistentRead: true` makes
// them in AWS. Index queries stay eventually consistent (AWS refuses a consistent one): a test of a listing waits.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

type Input = Record<string, unknown>;

export function consistentReads(endpoint: string): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 5,
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as Input;
      let consistent: Input = input;
      if (context.commandName === 'GetItemCommand') consistent = { ...input, ConsistentRead: true };
      if ((context.commandName === 'QueryCommand' || context.commandName === 'ScanCommand') && !input.IndexName)
        consistent = { ...input, ConsistentRead: true };
      if (context.commandName === 'BatchGetItemCommand')
        consistent = {
          ...input,
          RequestItems: Object.fromEntries(
            Object.entries(input.RequestItems as Record<string, Input>).map(([t, r]) => [
              t,
              { ...r, ConsistentRead: true },
            ]),
          ),
        };
      return next({ ...args, input: consistent });
    },
    { step: 'initialize', name: 'consistentReads' },
  );
  return client;
}
