import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AccessRequest, AuditEvent } from '../../domain/access-request.js';
import { type RequestState, transitionBy } from '../../domain/lifecycle.js';
import type { Clock } from '../../ports/clock.js';
import {
  type LifecycleMove,
  type NewAuditEvent,
  type RequestChanges,
  type RequestStore,
  StaleStateError,
  StoreUnavailableError,
} from '../../ports/request-store.js';
import {
  applyChanges,
  CHANGE_KEYS,
  describeError,
  isConditionFailed,
  isTransient,
  stored,
  UpdateBuilder,
} from './expressions.js';
import {
  AUDIT_PREFIX,
  type AuditItem,
  COMMAND_SK,
  type CommandItem,
  type RawItem,
  REQUEST_SK,
  REQUEST_TABLE_INDEXES,
  type RequestItem,
  auditSk,
  requestKey,
  requestPk,
  requesterPk,
  SLOT_SK,
  type SlotItem,
  sortKey,
  statePk,
} from './request-table.js';

/*
 * The request store on the table of ./request-table.ts.
 *
 * Audit events and lost writes: an event is written in two steps, because without transactions
 * the request and its audit item cannot change together. The conditional UpdateItem that changes
 * the request also bumps auditSequence and stores the event as lastAudit; only then is the audit
 * item put (attribute_not_exists) at AUDIT#<auditSequence>. The request item is therefore always
 * the truth, and an audit item is a copy of what lastAudit held at that sequence, so putting it
 * again is idempotent. If the put is lost (throttled, Lambda killed), the command fails or times
 * out and is redelivered; the retried write fails its condition, and every such conflict re-puts
 * the stored lastAudit. auditTrail() also shows lastAudit when its item is still missing.
 * What stays unhealed: a lost put whose command is never retried, followed by another recorded
 * event (which replaces lastAudit) before anyone heals it.
 *
 * Redelivery: a retried transition()/update() whose write already happened finds its condition
 * false. When the request is where that write left it AND lastAudit is the same event (all of
 * who/what/channel/from/to/why; `at` is ignored because a redelivery reads the clock again), it
 * is taken as the same command and the current request is returned instead of StaleStateError.
 * Once anything else has been recorded since, the retry is stale: the steps that followed it
 * have already run, and re-running them is what StaleStateError prevents. Consequences: two
 * identical moves (same actor, same reason) both succeed, one of them without writing; a race
 * between different actors still has exactly one winner.
 *
 * auditSequence counts audit events, version counts changes to the request: appendAudit()
 * records a refusal without touching the version, so a concurrent update() is not made stale by
 * someone else's refused click. An event's sequence equals the version it produced as long as
 * no appendAudit() came before it.
 */

export interface DynamoDbRequestStoreOptions {
  /** A plain client: the store wraps it in a document client with its own marshalling options. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
}

// A claim that loses to a holder which then releases is retried; this bounds a pathological churn.
const MAX_CLAIM_ATTEMPTS = 5;

export class DynamoDbRequestStore implements RequestStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbRequestStoreOptions) {
    // Optional fields (email, ticket…) are simply absent rather than a marshalling error.
    this.db = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
    this.clock = options.clock;
  }

  async create(
    request: AccessRequest,
    audit: NewAuditEvent,
  ): Promise<{ created: boolean; request: AccessRequest }> {
    if (request.state !== 'SUBMITTED' || request.version !== 1) {
      throw new TypeError(
        `a new request must be SUBMITTED at version 1, not ${request.state} at ${request.version}`,
      );
    }
    const { requestId } = request;
    const item = requestItemOf(request, audit);
    if (!(await this.putIfAbsent('create', item))) {
      const existing = await this.readRequest(requestId);
      // Requests are never deleted, so the item that failed the condition is still there.
      if (!existing) {
        throw new StoreUnavailableError(`request ${requestId} exists but could not be read back`);
      }
      await this.putLastAudit(existing);
      return { created: false, request: toRequest(existing) };
    }
    await this.putLastAudit(item);
    return { created: true, request: toRequest(item) };
  }

  async get(requestId: string): Promise<AccessRequest | undefined> {
    const item = await this.readRequest(requestId);
    return item && toRequest(item);
  }

  async transition(requestId: string, move: LifecycleMove): Promise<AccessRequest> {
    const { from, to } = transitionBy(move.event, move.by);
    const audit: NewAuditEvent = { ...move.audit, from, to };
    const now = this.now();
    const update = new UpdateBuilder();
    update.set('state', to);
    update.increment('version');
    update.set('updatedAt', now);
    update.set('statePk', statePk(to));
    update.set('stateSk', sortKey(now, requestId));
    update.set('lastAudit', audit);
    update.increment('auditSequence');
    applyChanges(update, move.changes);
    const versioned =
      move.expectedVersion === undefined
        ? ''
        : ` AND ${update.name('version')} = ${update.value(move.expectedVersion)}`;
    const condition = `attribute_exists(${update.name('pk')}) AND ${update.name('state')} = ${update.value(from)}${versioned}`;

    return this.conditionalUpdate('transition', requestId, update, condition, (current) => {
      return current.state === to && sameAudit(current.lastAudit, audit);
    });
  }

  async update(
    requestId: string,
    expectedVersion: number,
    changes: RequestChanges,
    audit?: NewAuditEvent,
  ): Promise<AccessRequest> {
    const now = this.now();
    const update = new UpdateBuilder();
    update.increment('version');
    update.set('updatedAt', now);
    update.set('stateSk', sortKey(now, requestId));
    applyChanges(update, changes);
    if (audit) {
      update.set('lastAudit', audit);
      update.increment('auditSequence');
    }
    const condition = `attribute_exists(${update.name('pk')}) AND ${update.name('version')} = ${update.value(expectedVersion)}`;

    return this.conditionalUpdate('update', requestId, update, condition, (current) => {
      return (
        current.version === expectedVersion + 1 &&
        changesApplied(current, changes) &&
        (audit === undefined || sameAudit(current.lastAudit, audit))
      );
    });
  }

  async appendAudit(requestId: string, audit: NewAuditEvent): Promise<void> {
    const update = new UpdateBuilder();
    update.set('lastAudit', audit);
    update.increment('auditSequence');
    const condition = `attribute_exists(${update.name('pk')})`;
    let sequence: number;
    try {
      const output = await this.call('appendAudit', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: requestKey(requestId),
            ...update.toInput(condition),
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      );
      sequence = Number(output.Attributes?.auditSequence);
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      throw new StaleStateError(requestId, undefined, { cause: error });
    }
    await this.putAudit({ ...audit, requestId, sequence });
  }

  async auditTrail(requestId: string): Promise<AuditEvent[]> {
    // One query reads the request and its events together: AUDIT#… sorts before REQUEST.
    const items = await this.queryAll('auditTrail', {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': requestPk(requestId) },
      ConsistentRead: true,
    });
    const events: AuditEvent[] = [];
    let request: RequestItem | undefined;
    for (const item of items) {
      if (item.sk === REQUEST_SK) {
        request = item as RequestItem;
      } else if (typeof item.sk === 'string' && item.sk.startsWith(AUDIT_PREFIX)) {
        events.push(toAuditEvent(item as AuditItem));
      }
    }
    // The state change happened even if its audit item was lost; lastAudit is its record until healed.
    if (request && !events.some((event) => event.sequence === request.auditSequence)) {
      events.push(lastAuditEvent(request));
    }
    return events;
  }

  async listByRequester(slackTeamId: string, slackUserId: string, limit?: number): Promise<AccessRequest[]> {
    return this.queryIndex(
      REQUEST_TABLE_INDEXES.byRequester,
      'requesterPk',
      requesterPk(slackTeamId, slackUserId),
      {
        newestFirst: true,
        limit,
      },
    );
  }

  async listByState(state: RequestState, limit?: number): Promise<AccessRequest[]> {
    return this.queryIndex(REQUEST_TABLE_INDEXES.byState, 'statePk', statePk(state), {
      newestFirst: false,
      limit,
    });
  }

  async rememberCommand(
    commandId: string,
    requestId: string,
  ): Promise<{ first: boolean; requestId: string }> {
    const key = { pk: `CMD#${commandId}`, sk: COMMAND_SK } as const;
    const item: CommandItem = { ...key, entity: 'command', commandId, requestId, recordedAt: this.now() };
    if (await this.putIfAbsent('rememberCommand', item)) return { first: true, requestId };
    const existing = (await this.getItem('rememberCommand', key)) as CommandItem | undefined;
    // Command records are never deleted, so the one that failed the condition is still there.
    if (!existing)
      throw new StoreUnavailableError(`command ${commandId} is recorded but could not be read back`);
    return { first: false, requestId: existing.requestId };
  }

  async claimOpenSlot(slot: string, requestId: string): Promise<{ holder: string }> {
    const key = { pk: `SLOT#${slot}`, sk: SLOT_SK } as const;
    for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
      const item: SlotItem = { ...key, entity: 'slot', slot, requestId, claimedAt: this.now() };
      // Ours already (a redelivery) counts as claimed.
      if (await this.putIfAbsent('claimOpenSlot', item, { orHeldBy: requestId }))
        return { holder: requestId };
      const holder = (await this.getItem('claimOpenSlot', key)) as SlotItem | undefined;
      if (holder) return { holder: holder.requestId };
      // Released between our put and our read: the slot is free again, so try once more.
    }
    throw new StoreUnavailableError(
      `slot ${slot} kept changing hands; ${MAX_CLAIM_ATTEMPTS} claims did not settle`,
    );
  }

  async releaseOpenSlot(slot: string, requestId: string): Promise<void> {
    try {
      await this.call('releaseOpenSlot', () =>
        this.db.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { pk: `SLOT#${slot}`, sk: SLOT_SK },
            ConditionExpression: 'requestId = :requestId',
            ExpressionAttributeValues: { ':requestId': requestId },
          }),
        ),
      );
    } catch (error) {
      // Free already, or held by another request: either way not ours to release.
      if (!isConditionFailed(error)) throw error;
    }
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  /**
   * Runs a conditional UpdateItem on the request. On a failed condition, reads the request, heals
   * its last audit event, and returns it if `isRetry` recognises this very write as done already.
   */
  private async conditionalUpdate(
    operation: string,
    requestId: string,
    update: UpdateBuilder,
    condition: string,
    isRetry: (current: RequestItem) => boolean,
  ): Promise<AccessRequest> {
    let item: RequestItem;
    try {
      const output = await this.call(operation, () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: requestKey(requestId),
            ...update.toInput(condition),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      item = output.Attributes as RequestItem;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const current = await this.readRequest(requestId);
      if (!current) throw new StaleStateError(requestId, undefined, { cause: error });
      await this.putLastAudit(current);
      if (isRetry(current)) return toRequest(current);
      throw new StaleStateError(requestId, toRequest(current), { cause: error });
    }
    await this.putLastAudit(item);
    return toRequest(item);
  }

  /** Puts the audit item of the request's lastAudit unless it exists: the one way events are written. */
  private async putLastAudit(item: RequestItem): Promise<void> {
    await this.putAudit(lastAuditEvent(item));
  }

  private async putAudit(event: AuditEvent): Promise<void> {
    const item: AuditItem = {
      ...event,
      pk: requestPk(event.requestId),
      sk: auditSk(event.sequence),
      entity: 'audit',
    };
    // Not written when it exists: by the first attempt, or by a healing conflict, with the same content.
    await this.putIfAbsent('putAudit', item);
  }

  /**
   * Puts an item unless one with its key exists (or, with `orHeldBy`, exists for another request):
   * true when written, false when the condition kept it out. The store's one kind of insert.
   */
  private async putIfAbsent(
    operation: string,
    item: RawItem,
    options: { orHeldBy?: string } = {},
  ): Promise<boolean> {
    try {
      await this.call(operation, () =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ...(options.orHeldBy === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: 'attribute_not_exists(pk) OR requestId = :requestId',
                  ExpressionAttributeValues: { ':requestId': options.orHeldBy },
                }),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return false;
    }
  }

  private async readRequest(requestId: string): Promise<RequestItem | undefined> {
    return (await this.getItem('get', requestKey(requestId))) as RequestItem | undefined;
  }

  private async getItem(operation: string, key: { pk: string; sk: string }): Promise<RawItem | undefined> {
    const output = await this.call(operation, () =>
      // Strongly consistent: every caller decides on what it reads (conflicts, holders, commands).
      this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return output.Item;
  }

  private async queryIndex(
    indexName: string,
    keyAttribute: string,
    keyValue: string,
    options: { newestFirst: boolean; limit: number | undefined },
  ): Promise<AccessRequest[]> {
    const { limit } = options;
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new RangeError(`limit must be a positive integer, not ${limit}`);
    }
    const items = await this.queryAll(
      `query ${indexName}`,
      {
        IndexName: indexName,
        KeyConditionExpression: '#key = :key',
        ExpressionAttributeNames: { '#key': keyAttribute },
        ExpressionAttributeValues: { ':key': keyValue },
        ScanIndexForward: !options.newestFirst,
      },
      limit,
    );
    return items.map((item) => toRequest(item as RequestItem));
  }

  /** Follows LastEvaluatedKey until `limit` items (or all of them) are read. */
  private async queryAll(
    operation: string,
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    limit?: number,
  ): Promise<RawItem[]> {
    const items: RawItem[] = [];
    let startKey: RawItem | undefined;
    do {
      const remaining = limit === undefined ? undefined : limit - items.length;
      const output = await this.call(operation, () =>
        this.db.send(
          new QueryCommand({
            ...input,
            TableName: this.tableName,
            Limit: remaining,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey && (limit === undefined || items.length < limit));
    return items;
  }

  /** Runs one DynamoDB call, turning what a retry can fix into StoreUnavailableError. */
  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isTransient(error)) {
        throw new StoreUnavailableError(
          `DynamoDB ${operation} on ${this.tableName} failed: ${describeError(error)}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
}

function changesApplied(current: AccessRequest, changes: RequestChanges): boolean {
  return CHANGE_KEYS.every(
    (key) => changes[key] === undefined || isDeepStrictEqual(stored(current[key]), stored(changes[key])),
  );
}

/** The same event, except when: a redelivered command reads the clock again. */
function sameAudit(recorded: NewAuditEvent, attempted: NewAuditEvent): boolean {
  return isDeepStrictEqual(stored({ ...recorded, at: undefined }), stored({ ...attempted, at: undefined }));
}

function toRequest(item: RequestItem): AccessRequest {
  const {
    pk: _pk,
    sk: _sk,
    entity: _entity,
    requesterPk: _requesterPk,
    requesterSk: _requesterSk,
    statePk: _statePk,
    stateSk: _stateSk,
    auditSequence: _auditSequence,
    lastAudit: _lastAudit,
    ...request
  } = item;
  return request;
}

function toAuditEvent(item: AuditItem): AuditEvent {
  const { pk: _pk, sk: _sk, entity: _entity, ...event } = item;
  return event;
}

function lastAuditEvent(item: RequestItem): AuditEvent {
  return { ...item.lastAudit, requestId: item.requestId, sequence: item.auditSequence };
}

/**
 * The table item of a request, its index keys included. Also what a bench seeds a table with, so
 * a seeded request is exactly what the store would have written.
 */
export function requestItemOf(
  request: AccessRequest,
  lastAudit: NewAuditEvent,
  auditSequence = 1,
): RequestItem {
  return {
    ...request,
    ...requestKey(request.requestId),
    entity: 'request',
    requesterPk: requesterPk(request.requester.slackTeamId, request.requester.slackUserId),
    requesterSk: sortKey(request.createdAt, request.requestId),
    statePk: statePk(request.state),
    stateSk: sortKey(request.updatedAt, request.requestId),
    auditSequence,
    lastAudit,
  };
}
