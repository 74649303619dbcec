import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynaliteHandle, startDynalite } from '../../local/dynalite.js';

const TABLE = 'requests';
const BY_STATUS = 'byStatus';

let dynamo: DynaliteHandle;
let client: DynamoDBClient;

// In-process and near-instant, so each file gets its own emulator instead of a shared one.
beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'N' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: BY_STATUS,
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
});

afterAll(async () => {
  // Destroying the client first frees its keep-alive sockets, so the server can close.
  client?.destroy();
  await dynamo?.stop();
});

const putNew = (id: string, status: string, createdAt: number) =>
  client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { id: { S: id }, status: { S: status }, createdAt: { N: String(createdAt) } },
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );

describe('dynalite as a DynamoDB stand-in', () => {
  it('accepts a conditional put once and rejects the duplicate', async () => {
    await putNew('req-put', 'pending', 1);
    await expect(putNew('req-put', 'pending', 2)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('updates only from the expected value', async () => {
    await putNew('req-update', 'pending', 3);
    const transition = (from: string, to: string) =>
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: { S: 'req-update' } },
          // status is a DynamoDB reserved word, hence the name placeholder.
          UpdateExpression: 'SET #status = :to',
          ConditionExpression: '#status = :from',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':from': { S: from }, ':to': { S: to } },
          ReturnValues: 'ALL_NEW',
        }),
      );

    const updated = await transition('pending', 'approved');
    expect(updated.Attributes?.status).toEqual({ S: 'approved' });
    await expect(transition('pending', 'denied')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('queries the GSI by status in createdAt order', async () => {
    await putNew('req-gsi-b', 'expiring', 20);
    await putNew('req-gsi-a', 'expiring', 10);
    await putNew('req-gsi-c', 'active', 15);

    const result = await client.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: BY_STATUS,
        KeyConditionExpression: '#status = :status AND createdAt >= :since',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': { S: 'expiring' }, ':since': { N: '0' } },
      }),
    );
    expect(result.Items?.map((item) => item.id?.S)).toEqual(['req-gsi-a', 'req-gsi-b']);
  });
});
