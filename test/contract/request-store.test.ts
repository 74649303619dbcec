import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient,
  type DynamoDBClientConfig,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynaliteHandle, startDynalite } from '../../local/dynalite.js';
import { freePort } from '../../local/free-port.js';
import { DynamoDbRequestStore } from '../../shared/adapters/dynamodb/dynamodb-request-store.js';
import {
  createRequestTable,
  REQUEST_TABLE_DEFINITION,
} from '../../shared/adapters/dynamodb/request-table.js';
import type { AccessRequest } from '../../shared/domain/access-request.js';
import {
  type NewAuditEvent,
  StaleStateError,
  StoreUnavailableError,
} from '../../shared/ports/request-store.js';
import { counterClock, requestStoreContract } from './request-store.contract.js';

let dynamo: DynaliteHandle;
const clients: DynamoDBClient[] = [];
let tables = 0;

// In-process and near-instant, so this file has its own emulator and a fresh table per store.
beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  // Destroying the clients first frees their keep-alive sockets, so the server can close.
  for (const client of clients) client.destroy();
  await dynamo?.stop();
});

function newClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  const client = new DynamoDBClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...config,
  });
  clients.push(client);
  return client;
}

async function freshStore(client = newClient()) {
  const tableName = `requests-${process.pid}-${++tables}`;
  await createRequestTable(client, tableName);
  const clock = counterClock();
  return { store: new DynamoDbRequestStore({ client, tableName, clock }), clock, client, tableName };
}

requestStoreContract('DynamoDbRequestStore on dynalite', freshStore);

type MarshalledInput = { Item?: Record<string, { S?: string }> };

/**
 * Makes the client fail the next `times` calls matching `when`, before they are sent: a fault
 * injected through the SDK's own middleware stack, which the store's document client shares.
 */
function failNext(
  client: DynamoDBClient,
  when: (commandName: string, input: MarshalledInput) => boolean,
  error: () => Error,
  times = 1,
): { readonly injected: () => number } {
  let injected = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (injected < times && when(context.commandName ?? '', args.input as MarshalledInput)) {
        injected++;
        throw error();
      }
      return next(args);
    },
    // After serialisation's DocumentMarshall, so the input is in DynamoDB JSON; before retries.
    { step: 'build', name: `faultInjection-${randomUUID()}` },
  );
  return { injected: () => injected };
}

const isAuditPut = (commandName: string, input: MarshalledInput) =>
  commandName === 'PutItemCommand' && (input.Item?.sk?.S ?? '').startsWith('AUDIT#');

const throttled = () =>
  new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: {} });

const SYSTEM = { kind: 'system', id: 'worker' } as const;

function newRequest(
  clock: { now(): Date },
  requestId = `REQ-${randomUUID().slice(0, 8).toUpperCase()}`,
): AccessRequest {
  const at = clock.now().toISOString();
  return {
    requestId,
    state: 'SUBMITTED',
    version: 1,
    commandId: randomUUID(),
    createdAt: at,
    updatedAt: at,
    requester: { slackUserId: 'UADA', slackTeamId: 'T0001' },
    database: 'orders',
    level: 'read',
    durationMinutes: 30,
    justification: 'INC-7',
    slack: {},
  };
}

function audit(clock: { now(): Date }, action: string, extra: Partial<NewAuditEvent> = {}): NewAuditEvent {
  return { at: clock.now().toISOString(), action, actor: SYSTEM, channel: 'system', ...extra };
}

describe('DynamoDbRequestStore on dynalite', () => {
  describe('table layout', () => {
    it('keeps requests, audit events, commands and slots in one table under the documented keys', async () => {
      const { store, clock, client, tableName } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit', { to: 'SUBMITTED' }));
      const opened = await store.transition(request.requestId, {
        event: 'open',
        by: 'system',
        audit: audit(clock, 'open'),
      });
      await store.rememberCommand('cmd-1', request.requestId);
      await store.claimOpenSlot('T0001#UADA#orders#read', request.requestId);

      const db = DynamoDBDocumentClient.from(client);
      const get = async (pk: string, sk: string) =>
        (await db.send(new GetCommand({ TableName: tableName, Key: { pk, sk } }))).Item;
      expect(await get(`REQ#${request.requestId}`, 'REQUEST')).toMatchObject({
        entity: 'request',
        requesterPk: 'USER#T0001#UADA',
        requesterSk: `${request.createdAt}#${request.requestId}`,
        statePk: 'STATE#PENDING_APPROVAL',
        stateSk: `${opened.updatedAt}#${request.requestId}`,
        auditSequence: 2,
        lastAudit: { action: 'open', from: 'SUBMITTED', to: 'PENDING_APPROVAL' },
      });
      expect(await get(`REQ#${request.requestId}`, 'AUDIT#0000000002')).toMatchObject({
        action: 'open',
        sequence: 2,
      });
      expect(await get('CMD#cmd-1', 'COMMAND')).toMatchObject({ requestId: request.requestId });
      expect(await get('SLOT#T0001#UADA#orders#read', 'SLOT')).toMatchObject({
        requestId: request.requestId,
      });
    });

    it('creates the table idempotently from one exported definition', async () => {
      const { client, tableName } = await freshStore();
      await expect(createRequestTable(client, tableName)).resolves.toBeUndefined();
      expect(REQUEST_TABLE_DEFINITION.GlobalSecondaryIndexes.map((index) => index.IndexName)).toEqual([
        'byRequester',
        'byState',
      ]);
    });

    it('refuses a change to an identity field even when the type system was bypassed', async () => {
      const { store, clock } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit'));
      const sneaky = { state: 'GRANTED' } as unknown as Parameters<DynamoDbRequestStore['update']>[2];
      await expect(store.update(request.requestId, 1, sneaky)).rejects.toThrow(/cannot set state/);
      expect(await store.get(request.requestId)).toEqual(request);
    });
  });

  describe('healing a lost audit write', () => {
    /** The audit items actually stored, without auditTrail()'s fallback to lastAudit. */
    async function storedAuditSequences(client: DynamoDBClient, tableName: string, requestId: string) {
      const output = await DynamoDBDocumentClient.from(client).send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
          ExpressionAttributeValues: { ':pk': `REQ#${requestId}`, ':audit': 'AUDIT#' },
        }),
      );
      return (output.Items ?? []).map((item) => item.sequence as number);
    }

    it('re-puts a transition’s event when the transition is redelivered', async () => {
      const { store, clock, client, tableName } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit'));
      const fault = failNext(client, isAuditPut, throttled);
      const move = {
        event: 'open',
        by: 'system',
        changes: { ticket: { key: 'ACC-9', url: 'https://jira.example.test/browse/ACC-9' } },
        audit: audit(clock, 'open', { reason: 'ticket ACC-9' }),
      } as const;

      // The request moved, but its audit item was not written: the command fails and is redelivered.
      await expect(store.transition(request.requestId, move)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(fault.injected()).toBe(1);
      expect((await store.get(request.requestId))?.state).toBe('PENDING_APPROVAL');
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([1]);
      // Until healed, the trail still shows the event, from the request item itself.
      expect((await store.auditTrail(request.requestId)).map((event) => event.action)).toEqual([
        'submit',
        'open',
      ]);

      const redelivered = await store.transition(request.requestId, {
        ...move,
        audit: { ...move.audit, at: clock.now().toISOString() },
      });
      expect(redelivered).toMatchObject({
        state: 'PENDING_APPROVAL',
        version: 2,
        ticket: move.changes.ticket,
      });
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([1, 2]);
      expect((await store.auditTrail(request.requestId))[1]).toMatchObject({
        action: 'open',
        at: move.audit.at,
      });
    });

    it('re-puts an update’s event when the update is redelivered', async () => {
      const { store, clock, client, tableName } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit'));
      failNext(client, isAuditPut, throttled);
      const verified = audit(clock, 'requester.verified');

      await expect(
        store.update(request.requestId, 1, { eligibleVia: 'DB-Readers' }, verified),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([1]);

      const redelivered = await store.update(request.requestId, 1, { eligibleVia: 'DB-Readers' }, verified);
      expect(redelivered).toMatchObject({ version: 2, eligibleVia: 'DB-Readers' });
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([1, 2]);
    });

    it('re-puts the creation event when the create is repeated', async () => {
      const { store, clock, client, tableName } = await freshStore();
      const request = newRequest(clock);
      failNext(client, isAuditPut, throttled);

      await expect(store.create(request, audit(clock, 'submit'))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([]);

      expect(await store.create(request, audit(clock, 'submit'))).toEqual({ created: false, request });
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([1]);
    });

    it('lets a losing writer heal the winner’s event', async () => {
      const { store, clock, client, tableName } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit'));
      failNext(client, isAuditPut, () => new Error('Lambda killed between the two writes'));
      const open = { event: 'open', by: 'system' } as const;

      await expect(
        store.transition(request.requestId, { ...open, audit: audit(clock, 'open') }),
      ).rejects.toThrow(/killed/);
      const rejected = store.transition(request.requestId, {
        event: 'reject',
        by: 'system',
        audit: audit(clock, 'reject'),
      });
      await expect(rejected).rejects.toBeInstanceOf(StaleStateError);
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([1, 2]);
    });

    it('re-puts an appended event only once, however often it is healed', async () => {
      const { store, clock, client, tableName } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit'));
      failNext(client, isAuditPut, throttled);

      await expect(
        store.appendAudit(request.requestId, audit(clock, 'approve.refused')),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.create(request, audit(clock, 'submit'))).resolves.toMatchObject({ created: false });
      await expect(store.create(request, audit(clock, 'submit'))).resolves.toMatchObject({ created: false });
      expect(await storedAuditSequences(client, tableName, request.requestId)).toEqual([1, 2]);
      expect((await store.auditTrail(request.requestId)).map((event) => event.action)).toEqual([
        'submit',
        'approve.refused',
      ]);
    });
  });

  describe('errors', () => {
    it('reports throttling as StoreUnavailableError and works again afterwards', async () => {
      const { store, clock, client } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit'));
      failNext(client, (name) => name === 'GetItemCommand', throttled);

      const error = await store.get(request.requestId).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).cause).toBeInstanceOf(ThrottlingException);
      expect(await store.get(request.requestId)).toEqual(request);
    });

    it('reports exceeded throughput and server errors as StoreUnavailableError, writing nothing', async () => {
      const { store, clock, client } = await freshStore();
      const request = newRequest(clock);
      await store.create(request, audit(clock, 'submit'));
      failNext(
        client,
        (name) => name === 'UpdateItemCommand',
        () =>
          new ProvisionedThroughputExceededException({
            message: 'slow down',
            $metadata: { httpStatusCode: 400 },
          }),
      );
      failNext(
        client,
        (name) => name === 'PutItemCommand',
        () => new InternalServerError({ message: 'internal', $metadata: { httpStatusCode: 500 } }),
      );
      const move = {
        event: 'open',
        by: 'system',
        audit: audit(clock, 'open'),
      } as const;

      await expect(store.transition(request.requestId, move)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(await store.get(request.requestId)).toEqual(request);
      await expect(store.rememberCommand('cmd-x', request.requestId)).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(await store.rememberCommand('cmd-x', request.requestId)).toEqual({
        first: true,
        requestId: request.requestId,
      });
    });

    it('reports an unreachable endpoint as StoreUnavailableError', async () => {
      const port = await freePort();
      const client = newClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
      const store = new DynamoDbRequestStore({ client, tableName: 'requests', clock: counterClock() });

      const error = await store.get('REQ-NOWHERE1').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(String(error)).toMatch(/ECONNREFUSED/);
    });

    it('lets a configuration error through as it is: a missing table is no reason to retry', async () => {
      const store = new DynamoDbRequestStore({
        client: newClient(),
        tableName: 'no-such-table',
        clock: counterClock(),
      });
      const error = await store.get('REQ-MISSING1').catch((caught: unknown) => caught);
      expect(error).not.toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).name).toBe('ResourceNotFoundException');
    });

    it('refuses a limit that is not a positive integer', async () => {
      const { store } = await freshStore();
      await expect(store.listByState('SUBMITTED', 0)).rejects.toBeInstanceOf(RangeError);
    });
  });
});
