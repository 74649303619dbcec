import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { AccessRequest, AuditEvent } from '../../domain/access-request.js';
import type { RequestState } from '../../domain/lifecycle.js';
import type { NewAuditEvent } from '../../ports/request-store.js';

/*
 * Single-table design (every write is one conditional single-item write: no transactions, so
 * the store also runs on dynalite):
 *
 *   pk                 sk                    what
 *   REQ#<requestId>    REQUEST               the AccessRequest, plus auditSequence and lastAudit
 *   REQ#<requestId>    AUDIT#<0000000001>    one audit event, immutable once written
 *   CMD#<commandId>    COMMAND               which request a command made (deduplication)
 *   SLOT#<slot>        SLOT                  the request holding an open slot
 *
 *   GSI byRequester: requesterPk USER#<team>#<user>, requesterSk <createdAt>#<requestId>
 *   GSI byState:     statePk STATE#<state>,        stateSk <updatedAt>#<requestId>
 * Only request items carry the GSI attributes, so both indexes hold requests and nothing else.
 */

export const REQUEST_SK = 'REQUEST';
export const COMMAND_SK = 'COMMAND';
export const SLOT_SK = 'SLOT';
export type RawItem = Record<string, NativeAttributeValue>;
export const AUDIT_PREFIX = 'AUDIT#';

export const REQUEST_TABLE_INDEXES = { byRequester: 'byRequester', byState: 'byState' } as const;

/** Keys, indexes and billing of the request table, for tests, the local stack and CDK alike. */
export const REQUEST_TABLE_DEFINITION = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'requesterPk', AttributeType: 'S' },
    { AttributeName: 'requesterSk', AttributeType: 'S' },
    { AttributeName: 'statePk', AttributeType: 'S' },
    { AttributeName: 'stateSk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: REQUEST_TABLE_INDEXES.byRequester,
      KeySchema: [
        { AttributeName: 'requesterPk', KeyType: 'HASH' },
        { AttributeName: 'requesterSk', KeyType: 'RANGE' },
      ],
      // ALL: a listing returns whole requests without a GetItem per row.
      Projection: { ProjectionType: 'ALL' },
    },
    {
      IndexName: REQUEST_TABLE_INDEXES.byState,
      KeySchema: [
        { AttributeName: 'statePk', KeyType: 'HASH' },
        { AttributeName: 'stateSk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
  BillingMode: 'PAY_PER_REQUEST',
} satisfies Omit<CreateTableCommandInput, 'TableName'>;

/** Creates the request table (tolerating one that exists) and waits until it is ACTIVE. */
export async function createRequestTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand({ ...REQUEST_TABLE_DEFINITION, TableName: tableName }));
  } catch (error) {
    // A second local-stack start, or a race with another test worker: the table is what we want.
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
  // The waiter's DynamoDB default is a first delay of 20 s: dynalite flips a new table to ACTIVE
  // a tick after CreateTable answers, so an unlucky first look cost a test 20 s. Poll briskly.
  await waitUntilTableExists(
    { client, maxWaitTime: 300, minDelay: 0.05, maxDelay: 5 },
    { TableName: tableName },
  );
}

export interface RequestItem extends AccessRequest {
  readonly pk: string;
  readonly sk: typeof REQUEST_SK;
  readonly entity: 'request';
  readonly requesterPk: string;
  readonly requesterSk: string;
  readonly statePk: string;
  readonly stateSk: string;
  /** The sequence of lastAudit: the number of audit events recorded so far. */
  readonly auditSequence: number;
  readonly lastAudit: NewAuditEvent;
}

export interface AuditItem extends AuditEvent {
  readonly pk: string;
  readonly sk: string;
  readonly entity: 'audit';
}

export interface CommandItem {
  readonly pk: string;
  readonly sk: typeof COMMAND_SK;
  readonly entity: 'command';
  readonly commandId: string;
  readonly requestId: string;
  readonly recordedAt: string;
}

export interface SlotItem {
  readonly pk: string;
  readonly sk: typeof SLOT_SK;
  readonly entity: 'slot';
  readonly slot: string;
  readonly requestId: string;
  readonly claimedAt: string;
}

export const requestPk = (requestId: string) => `REQ#${requestId}`;
export const requestKey = (requestId: string) => ({ pk: requestPk(requestId), sk: REQUEST_SK }) as const;
export const auditSk = (sequence: number) => `${AUDIT_PREFIX}${String(sequence).padStart(10, '0')}`;
export const requesterPk = (team: string, user: string) => `USER#${team}#${user}`;
export const statePk = (state: RequestState) => `STATE#${state}`;
// The id breaks ties between equal timestamps, so a page boundary never splits them ambiguously.
export const sortKey = (timestamp: string, requestId: string) => `${timestamp}#${requestId}`;
