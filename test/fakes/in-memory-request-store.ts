import { isDeepStrictEqual } from 'node:util';
import type { AccessRequest, AuditEvent } from '../../shared/domain/access-request.js';
import { type RequestState, transitionBy } from '../../shared/domain/lifecycle.js';
import type { Clock } from '../../shared/ports/clock.js';
import {
  type LifecycleMove,
  type NewAuditEvent,
  type RequestChanges,
  type RequestStore,
  StaleStateError,
} from '../../shared/ports/request-store.js';

interface Stored {
  request: AccessRequest;
  lastAudit: NewAuditEvent;
  trail: AuditEvent[];
}

/** JSON values only, undefined members dropped: what a document store gives back. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * A RequestStore in memory, for the use cases' unit tests. It runs the same contract suite as the
 * DynamoDB store (test/contract/request-store-memory.test.ts), so what a use case sees from it is
 * what it would see from DynamoDB, redeliveries and stale writes included.
 */
export class InMemoryRequestStore implements RequestStore {
  private readonly requests = new Map<string, Stored>();
  private readonly commands = new Map<string, string>();
  private readonly slots = new Map<string, string>();

  constructor(private readonly clock: Clock) {}

  async create(request: AccessRequest, audit: NewAuditEvent) {
    if (request.state !== 'SUBMITTED' || request.version !== 1) {
      throw new TypeError(`a new request must be SUBMITTED at version 1, not ${request.state}`);
    }
    const existing = this.requests.get(request.requestId);
    if (existing) return { created: false, request: copy(existing.request) };
    const event = copy({ ...audit, requestId: request.requestId, sequence: 1 });
    this.requests.set(request.requestId, { request: copy(request), lastAudit: copy(audit), trail: [event] });
    return { created: true, request: copy(request) };
  }

  async get(requestId: string): Promise<AccessRequest | undefined> {
    const stored = this.requests.get(requestId);
    return stored && copy(stored.request);
  }

  async transition(requestId: string, move: LifecycleMove): Promise<AccessRequest> {
    const { from, to } = transitionBy(move.event, move.by);
    const audit: NewAuditEvent = { ...move.audit, from, to };
    const stored = this.requests.get(requestId);
    if (!stored) throw new StaleStateError(requestId, undefined);
    const current = stored.request;
    if (current.state === to && sameAudit(stored.lastAudit, audit)) return copy(current);
    if (
      current.state !== from ||
      (move.expectedVersion !== undefined && current.version !== move.expectedVersion)
    ) {
      throw new StaleStateError(requestId, copy(current));
    }
    return this.write(stored, { ...move.changes, state: to }, audit);
  }

  async update(requestId: string, expectedVersion: number, changes: RequestChanges, audit?: NewAuditEvent) {
    this.assertChanges(changes);
    const stored = this.requests.get(requestId);
    if (!stored) throw new StaleStateError(requestId, undefined);
    const current = stored.request;
    const redelivered =
      current.version === expectedVersion + 1 &&
      Object.entries(changes).every(([key, value]) =>
        isDeepStrictEqual(copy(current[key as keyof AccessRequest]), copy(value)),
      ) &&
      (audit === undefined || sameAudit(stored.lastAudit, audit));
    if (redelivered) return copy(current);
    if (current.version !== expectedVersion) throw new StaleStateError(requestId, copy(current));
    return this.write(stored, changes, audit);
  }

  async appendAudit(requestId: string, audit: NewAuditEvent): Promise<void> {
    const stored = this.requests.get(requestId);
    if (!stored) throw new StaleStateError(requestId, undefined);
    this.record(stored, audit);
  }

  async auditTrail(requestId: string): Promise<AuditEvent[]> {
    return copy(this.requests.get(requestId)?.trail ?? []);
  }

  async listByRequester(slackTeamId: string, slackUserId: string, limit?: number) {
    this.assertLimit(limit);
    const mine = [...this.requests.values()]
      .map((s) => s.request)
      .filter((r) => r.requester.slackTeamId === slackTeamId && r.requester.slackUserId === slackUserId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.requestId.localeCompare(a.requestId));
    return copy(mine.slice(0, limit));
  }

  async listByState(state: RequestState, limit?: number) {
    this.assertLimit(limit);
    const inState = [...this.requests.values()]
      .map((s) => s.request)
      .filter((r) => r.state === state)
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.requestId.localeCompare(b.requestId));
    return copy(inState.slice(0, limit));
  }

  async rememberCommand(commandId: string, requestId: string) {
    const first = this.commands.get(commandId);
    if (first !== undefined) return { first: false, requestId: first };
    this.commands.set(commandId, requestId);
    return { first: true, requestId };
  }

  async claimOpenSlot(slot: string, requestId: string) {
    const holder = this.slots.get(slot) ?? requestId;
    this.slots.set(slot, holder);
    return { holder };
  }

  async releaseOpenSlot(slot: string, requestId: string): Promise<void> {
    if (this.slots.get(slot) === requestId) this.slots.delete(slot);
  }

  private write(
    stored: Stored,
    changes: RequestChanges & { state?: RequestState },
    audit: NewAuditEvent | undefined,
  ): AccessRequest {
    this.assertChanges(changes);
    stored.request = copy({
      ...stored.request,
      ...changes,
      version: stored.request.version + 1,
      updatedAt: this.clock.now().toISOString(),
    });
    if (audit) this.record(stored, audit);
    return copy(stored.request);
  }

  private record(stored: Stored, audit: NewAuditEvent): void {
    stored.lastAudit = copy(audit);
    stored.trail.push(
      copy({ ...audit, requestId: stored.request.requestId, sequence: stored.trail.length + 1 }),
    );
  }

  private assertChanges(changes: object): void {
    const identity = ['requestId', 'version', 'commandId', 'createdAt', 'updatedAt', 'database', 'level'];
    const bad = Object.keys(changes).filter((key) => identity.includes(key));
    if (bad.length > 0) throw new TypeError(`a request change cannot set ${bad.join(', ')}`);
  }

  private assertLimit(limit: number | undefined): void {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new RangeError(`limit must be a positive integer, not ${limit}`);
    }
  }
}

/** The same event, except when: a redelivered command reads the clock again. */
function sameAudit(recorded: NewAuditEvent, attempted: NewAuditEvent): boolean {
  return isDeepStrictEqual(copy({ ...recorded, at: undefined }), copy({ ...attempted, at: undefined }));
}
