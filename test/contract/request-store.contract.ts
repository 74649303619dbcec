import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, AuditActor, AuditEvent } from '../../shared/domain/access-request.js';
import {
  type LifecycleEvent,
  type RequestState,
  type Transition,
  TRANSITIONS,
} from '../../shared/domain/lifecycle.js';
import { ActorNotAllowedError } from '../../shared/domain/errors.js';
import type { Clock } from '../../shared/ports/clock.js';
import { type NewAuditEvent, type RequestStore, StaleStateError } from '../../shared/ports/request-store.js';

/*
 * What the worker relies on from any RequestStore. Run it against each implementation:
 *   requestStoreContract('MyStore', async () => ({ store, clock, teardown }))
 * `setup` runs once per suite, so the tests share one store: each uses its own request ids,
 * requesters and slots, and reads the shared state lists only for its own ids.
 * The store and the tests must share `clock`; a clock that moves forward on every read
 * (counterClock) makes every timestamp distinct and every ordering deterministic.
 * Listings are read right after writes; on real DynamoDB (eventually consistent GSIs) run the
 * listing tests with a retry, dynalite and in-memory stores are immediately consistent.
 */

export interface RequestStoreFixture {
  readonly store: RequestStore;
  readonly clock: Clock;
  readonly teardown?: () => Promise<void>;
}

/** A clock that advances `stepMs` on every read: distinct, increasing timestamps without sleeping. */
export function counterClock(start = Date.UTC(2030, 0, 1, 9), stepMs = 1000): Clock {
  let reads = 0;
  return { now: () => new Date(start + stepMs * reads++) };
}

const SYSTEM: AuditActor = { kind: 'system', id: 'worker' };
const APPROVER: AuditActor = { kind: 'slack', id: 'UAPPROVER1' };

/** The transitions leading from SUBMITTED to `state`, found by breadth-first search. */
function pathTo(state: RequestState): Transition[] {
  const paths = new Map<RequestState, Transition[]>([['SUBMITTED', []]]);
  const queue: RequestState[] = ['SUBMITTED'];
  for (let from = queue.shift(); from !== undefined; from = queue.shift()) {
    for (const transition of TRANSITIONS.filter((candidate) => candidate.from === from)) {
      if (paths.has(transition.to)) continue;
      paths.set(transition.to, [...(paths.get(from) ?? []), transition]);
      queue.push(transition.to);
    }
  }
  const path = paths.get(state);
  if (!path) throw new Error(`no path from SUBMITTED to ${state}`);
  return path;
}

export function requestStoreContract(name: string, setup: () => Promise<RequestStoreFixture>): void {
  describe(`RequestStore contract: ${name}`, () => {
    let fixture: RequestStoreFixture;
    // Getters, because the fixture only exists once beforeAll has run.
    const store = () => fixture.store;
    const now = () => fixture.clock.now().toISOString();

    beforeAll(async () => {
      fixture = await setup();
    });

    afterAll(async () => {
      await fixture?.teardown?.();
    });

    const unique = () => randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase();

    function newRequest(overrides: Partial<AccessRequest> = {}): AccessRequest {
      const at = now();
      return {
        requestId: `REQ-${unique()}`,
        state: 'SUBMITTED',
        version: 1,
        commandId: randomUUID(),
        createdAt: at,
        updatedAt: at,
        requester: { slackUserId: `U${unique()}`, slackTeamId: 'T0001', slackUserName: 'ada' },
        database: 'orders',
        level: 'read',
        durationMinutes: 60,
        justification: 'INC-42: checking stuck orders',
        slack: { channelId: 'D0001' },
        ...overrides,
      };
    }

    function submitAudit(request: AccessRequest): NewAuditEvent {
      return {
        at: now(),
        action: 'submit',
        actor: { kind: 'slack', id: request.requester.slackUserId },
        channel: 'slack',
        to: 'SUBMITTED',
        reason: request.justification,
      };
    }

    async function submitted(overrides: Partial<AccessRequest> = {}): Promise<AccessRequest> {
      const request = newRequest(overrides);
      const { created, request: stored } = await store().create(request, submitAudit(request));
      expect(created).toBe(true);
      return stored;
    }

    function actorFor(transition: Transition, request: AccessRequest): AuditActor {
      const role = transition.actors[0];
      if (role === 'requester') return { kind: 'slack', id: request.requester.slackUserId };
      return role === 'approver' ? APPROVER : SYSTEM;
    }

    function moveFor(transition: Transition, request: AccessRequest, actor = actorFor(transition, request)) {
      return {
        event: transition.event,
        by: transition.actors[0]!,
        audit: {
          at: now(),
          action: transition.event,
          actor,
          channel: actor.kind,
          reason: `${transition.event} by ${actor.id}`,
        },
      } satisfies Parameters<RequestStore['transition']>[1];
    }

    async function inState(
      state: RequestState,
      overrides: Partial<AccessRequest> = {},
    ): Promise<AccessRequest> {
      let request = await submitted(overrides);
      for (const transition of pathTo(state)) {
        request = await store().transition(request.requestId, moveFor(transition, request));
      }
      expect(request.state).toBe(state);
      return request;
    }

    /** The rejection of `promise`, failing the test if it resolves. */
    async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
      try {
        await promise;
      } catch (error) {
        return error;
      }
      throw new Error('expected the call to be refused');
    }

    async function staleErrorOf(promise: Promise<unknown>): Promise<StaleStateError> {
      const error = await rejectionOf(promise);
      expect(error).toBeInstanceOf(StaleStateError);
      return error as StaleStateError;
    }

    /** Everything a refused write must leave as it was. */
    async function snapshot(requestId: string) {
      return { request: await store().get(requestId), trail: await store().auditTrail(requestId) };
    }

    describe('create and get', () => {
      it('stores a new request once; a repeated create returns the original untouched', async () => {
        const request = newRequest();
        const first = await store().create(request, submitAudit(request));
        expect(first).toEqual({ created: true, request });

        const repeat = { ...request, justification: 'a different text', commandId: randomUUID() };
        const second = await store().create(repeat, submitAudit(repeat));
        expect(second).toEqual({ created: false, request });
        expect(await store().get(request.requestId)).toEqual(request);
        expect(await store().auditTrail(request.requestId)).toHaveLength(1);
      });

      it('lets exactly one of several concurrent creates of the same id create it', async () => {
        const request = newRequest();
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            store().create({ ...request, justification: `attempt ${i}` }, submitAudit(request)),
          ),
        );
        expect(results.filter((result) => result.created)).toHaveLength(1);
        const winner = results.find((result) => result.created)?.request;
        for (const result of results) expect(result.request).toEqual(winner);
        expect(await store().auditTrail(request.requestId)).toHaveLength(1);
      });

      it('records the creation as audit event 1', async () => {
        const request = newRequest();
        const audit = submitAudit(request);
        await store().create(request, audit);
        expect(await store().auditTrail(request.requestId)).toEqual([
          { ...audit, requestId: request.requestId, sequence: 1 },
        ]);
      });

      it('returns undefined (and an empty trail) for an unknown id', async () => {
        expect(await store().get(`REQ-${unique()}`)).toBeUndefined();
        expect(await store().auditTrail(`REQ-${unique()}`)).toEqual([]);
      });
    });

    describe('transition', () => {
      it.each(TRANSITIONS)('$event moves $from to $to', async (transition) => {
        const before = await inState(transition.from);
        const move = moveFor(transition, before);
        const after = await store().transition(before.requestId, move);

        expect(after).toMatchObject({
          requestId: before.requestId,
          state: transition.to,
          version: before.version + 1,
        });
        expect(after.updatedAt > before.updatedAt).toBe(true);
        expect(after.createdAt).toBe(before.createdAt);
        expect(await store().get(before.requestId)).toEqual(after);
        const trail = await store().auditTrail(before.requestId);
        expect(trail.at(-1)).toEqual({
          ...move.audit,
          requestId: before.requestId,
          sequence: trail.length,
          from: transition.from,
          to: transition.to,
        });
      });

      it('applies the changes a transition carries, and only those', async () => {
        const before = await submitted();
        const requester = { ...before.requester, email: 'ada@example.test', directoryAccount: 'ada' };
        const after = await store().transition(before.requestId, {
          ...moveFor(TRANSITIONS.find((t) => t.event === 'reject') as Transition, before),
          changes: { rejectionReason: 'not_eligible', requester },
        });
        expect(after).toEqual({
          ...before,
          state: 'REJECTED',
          version: 2,
          updatedAt: after.updatedAt,
          rejectionReason: 'not_eligible',
          requester,
        });
      });

      it('refuses a move from a state the request has left, carrying the current request and writing nothing', async () => {
        const denied = await inState('DENIED');
        const before = await snapshot(denied.requestId);
        const approve = TRANSITIONS.find((t) => t.event === 'approve') as Transition;

        const error = await staleErrorOf(store().transition(denied.requestId, moveFor(approve, denied)));
        expect(error.requestId).toBe(denied.requestId);
        expect(error.current).toEqual(denied);
        expect(await snapshot(denied.requestId)).toEqual(before);
      });

      it('with expectedVersion, refuses a move computed from an older version of the request', async () => {
        const pending = await inState('PENDING_APPROVAL');
        const approve = TRANSITIONS.find((t) => t.event === 'approve') as Transition;
        const approval = {
          account: 'bob',
          dn: 'CN=Bob,DC=example,DC=test',
          channel: 'slack',
          actorId: 'U0BOB0001',
          via: 'CN=db-approvers,DC=example,DC=test',
          at: now(),
        } as const;
        const newer = await store().update(pending.requestId, pending.version, { approvals: [approval] });

        const error = await staleErrorOf(
          store().transition(pending.requestId, {
            ...moveFor(approve, pending),
            expectedVersion: pending.version,
            changes: { approvals: [] },
          }),
        );
        expect(error.current).toEqual(newer);

        const approved = await store().transition(pending.requestId, {
          ...moveFor(approve, newer),
          expectedVersion: newer.version,
          changes: { decision: { outcome: 'approved', channel: 'slack', actorId: 'U0BOB0001', at: now() } },
        });
        expect(approved).toMatchObject({
          state: 'APPROVED',
          approvals: [approval],
          version: newer.version + 1,
        });
      });

      it('refuses an event the state does not allow (approve a denied request), writing nothing', async () => {
        const denied = await inState('DENIED');
        const before = await snapshot(denied.requestId);
        const audit = { at: now(), action: 'approve', actor: APPROVER, channel: 'slack' } as const;

        const error = await staleErrorOf(
          store().transition(denied.requestId, { event: 'approve', by: 'approver', audit }),
        );
        expect(error.current).toMatchObject({ state: 'DENIED', version: denied.version });
        expect(await snapshot(denied.requestId)).toEqual(before);
      });

      it('refuses an event the lifecycle does not define as a programming mistake, before writing', async () => {
        const pending = await inState('PENDING_APPROVAL');
        const before = await snapshot(pending.requestId);
        const audit = { at: now(), action: 'promote', actor: SYSTEM, channel: 'system' } as const;
        await expect(
          store().transition(pending.requestId, { event: 'promote' as LifecycleEvent, by: 'system', audit }),
        ).rejects.toBeInstanceOf(TypeError);
        expect(await snapshot(pending.requestId)).toEqual(before);
      });

      it.each([
        ['approve', 'requester'],
        ['open', 'approver'],
        ['cancel', 'system'],
      ] as const)(
        'refuses %s by the %s, a role the lifecycle never lets do it, writing nothing',
        async (event, by) => {
          const pending = await inState('PENDING_APPROVAL');
          const before = await snapshot(pending.requestId);
          const audit = { at: now(), action: event, actor: SYSTEM, channel: 'system' } as const;
          await expect(store().transition(pending.requestId, { event, by, audit })).rejects.toBeInstanceOf(
            ActorNotAllowedError,
          );
          expect(await snapshot(pending.requestId)).toEqual(before);
        },
      );

      it('refuses a move of an unknown request with StaleStateError and no current request', async () => {
        const requestId = `REQ-${unique()}`;
        const open = TRANSITIONS.find((t) => t.event === 'open') as Transition;
        const error = await staleErrorOf(
          store().transition(requestId, moveFor(open, newRequest({ requestId }))),
        );
        expect(error.current).toBeUndefined();
        expect(await store().get(requestId)).toBeUndefined();
      });

      it('lets exactly one of 20 concurrent decisions from the same state win', async () => {
        const pending = await inState('PENDING_APPROVAL');
        const decisions = TRANSITIONS.filter((t) => t.from === 'PENDING_APPROVAL');
        const moves = Array.from({ length: 20 }, (_, i) => {
          const transition = decisions[i % decisions.length] as Transition;
          return moveFor(transition, pending, { kind: 'slack', id: `UDECIDER${i}` });
        });

        const results = await Promise.allSettled(
          moves.map((move) => store().transition(pending.requestId, move)),
        );

        const won = results.flatMap((result, i) =>
          result.status === 'fulfilled' ? [{ i, request: result.value }] : [],
        );
        expect(won).toHaveLength(1);
        const [{ i: winner, request: decided }] = won as [{ i: number; request: AccessRequest }];
        const winningEvent = moves[winner]?.event;
        const leadsTo = TRANSITIONS.find((t) => t.event === winningEvent)?.to;
        expect(decided).toMatchObject({ state: leadsTo, version: pending.version + 1 });
        for (const result of results) {
          if (result.status === 'fulfilled') continue;
          expect(result.reason).toBeInstanceOf(StaleStateError);
          expect((result.reason as StaleStateError).current).toEqual(decided);
        }
        const trail = await store().auditTrail(pending.requestId);
        expect(trail.filter((event) => event.from === 'PENDING_APPROVAL')).toEqual([
          expect.objectContaining({ actor: { kind: 'slack', id: `UDECIDER${winner}` }, to: decided.state }),
        ]);
      });

      it('answers a redelivered transition with the request it already made, recording nothing twice', async () => {
        const request = await submitted();
        const move = moveFor(TRANSITIONS.find((t) => t.event === 'open') as Transition, request);
        const opened = await store().transition(request.requestId, {
          ...move,
          changes: { ticket: { key: 'ACC-1', url: 'u' } },
        });
        const trail = await store().auditTrail(request.requestId);

        // A redelivery reads the clock again, so only `at` differs.
        const again = await store().transition(request.requestId, {
          ...move,
          changes: { ticket: { key: 'ACC-1', url: 'u' } },
          audit: { ...move.audit, at: now() },
        });
        expect(again).toEqual(opened);
        expect(await store().auditTrail(request.requestId)).toEqual(trail);
      });

      it('treats a redelivery as stale once anything else was recorded after it', async () => {
        const request = await submitted();
        const move = moveFor(TRANSITIONS.find((t) => t.event === 'open') as Transition, request);
        const opened = await store().transition(request.requestId, move);
        await store().appendAudit(request.requestId, {
          at: now(),
          action: 'approve.refused',
          actor: { kind: 'slack', id: 'UOUTSIDER' },
          channel: 'slack',
          reason: 'not an approver',
        });

        const error = await staleErrorOf(store().transition(request.requestId, move));
        expect(error.current).toEqual(opened);
      });
    });

    describe('update', () => {
      it('applies changes at the expected version, bumping it and leaving identity alone', async () => {
        const pending = await inState('PENDING_APPROVAL');
        const slack = {
          ...pending.slack,
          approversMessage: { channelId: 'C0APPROVERS', ts: '1700000000.000100' },
        };
        const updated = await store().update(pending.requestId, pending.version, {
          slack,
          notified: { approvers: true },
        });

        expect(updated).toEqual({
          ...pending,
          version: pending.version + 1,
          updatedAt: updated.updatedAt,
          slack,
          notified: { approvers: true },
        });
        expect(updated.updatedAt > pending.updatedAt).toBe(true);
        expect(await store().get(pending.requestId)).toEqual(updated);
      });

      it('records its audit event when given one', async () => {
        const request = await submitted();
        const audit: NewAuditEvent = {
          at: now(),
          action: 'requester.verified',
          actor: { kind: 'system', id: 'worker', account: 'ada' },
          channel: 'system',
          reason: 'enabled account, member of DB-Readers',
        };
        await store().update(request.requestId, request.version, { eligibleVia: 'DB-Readers' }, audit);
        expect((await store().auditTrail(request.requestId)).at(-1)).toEqual({
          ...audit,
          requestId: request.requestId,
          sequence: 2,
        });
      });

      it('refuses a stale version with StaleStateError carrying the current request, writing nothing', async () => {
        const request = await submitted();
        const current = await store().update(request.requestId, request.version, {
          eligibleVia: 'DB-Readers',
        });
        const before = await snapshot(request.requestId);

        const error = await staleErrorOf(
          store().update(
            request.requestId,
            request.version,
            { eligibleVia: 'DB-Admins' },
            {
              at: now(),
              action: 'requester.verified',
              actor: SYSTEM,
              channel: 'system',
            },
          ),
        );
        expect(error.current).toEqual(current);
        expect(await snapshot(request.requestId)).toEqual(before);
      });

      it('lets exactly one of concurrent updates from the same version win (a lease)', async () => {
        const request = await submitted();
        const until = new Date(Date.parse(now()) + 90_000).toISOString();
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            store().update(request.requestId, request.version, {
              lease: { owner: `invocation-${i}`, until },
            }),
          ),
        );
        const won = results.filter((result) => result.status === 'fulfilled');
        expect(won).toHaveLength(1);
        const holder = (won[0] as PromiseFulfilledResult<AccessRequest>).value;
        for (const result of results) {
          if (result.status === 'rejected')
            expect((result.reason as StaleStateError).current).toEqual(holder);
        }
        expect((await store().get(request.requestId))?.version).toBe(request.version + 1);
      });

      it('answers a redelivered update with the request it already made, recording nothing twice', async () => {
        const request = await submitted();
        const audit: NewAuditEvent = {
          at: now(),
          action: 'requester.verified',
          actor: SYSTEM,
          channel: 'system',
        };
        const updated = await store().update(
          request.requestId,
          request.version,
          { eligibleVia: 'DB-Readers' },
          audit,
        );
        const trail = await store().auditTrail(request.requestId);

        const again = await store().update(
          request.requestId,
          request.version,
          { eligibleVia: 'DB-Readers' },
          {
            ...audit,
            at: now(),
          },
        );
        expect(again).toEqual(updated);
        expect(await store().auditTrail(request.requestId)).toEqual(trail);
      });

      it('refuses an update of an unknown request', async () => {
        const error = await staleErrorOf(store().update(`REQ-${unique()}`, 1, { eligibleVia: 'DB-Readers' }));
        expect(error.current).toBeUndefined();
      });
    });

    describe('audit trail', () => {
      it('lists who, what, when, from which channel and why, in order', async () => {
        const granted = await inState('GRANTED');
        const refusal: NewAuditEvent = {
          at: now(),
          action: 'revoke.refused',
          actor: { kind: 'slack', id: 'UOUTSIDER' },
          channel: 'slack',
          reason: 'only the requester or an approver may revoke',
        };
        await store().appendAudit(granted.requestId, refusal);
        const revoke = TRANSITIONS.find((t) => t.event === 'revoke') as Transition;
        await store().transition(granted.requestId, moveFor(revoke, granted));

        const trail = await store().auditTrail(granted.requestId);
        expect(trail.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(trail.map((event) => event.action)).toEqual([
          'submit',
          'open',
          'approve',
          'grant',
          'revoke.refused',
          'revoke',
        ]);
        expect(trail.map((event) => [event.from, event.to])).toEqual([
          [undefined, 'SUBMITTED'],
          ['SUBMITTED', 'PENDING_APPROVAL'],
          ['PENDING_APPROVAL', 'APPROVED'],
          ['APPROVED', 'GRANTED'],
          [undefined, undefined],
          ['GRANTED', 'REVOKED'],
        ]);
        expect(trail.map((event) => event.actor)).toEqual([
          { kind: 'slack', id: granted.requester.slackUserId },
          SYSTEM,
          APPROVER,
          SYSTEM,
          refusal.actor,
          { kind: 'slack', id: granted.requester.slackUserId },
        ]);
        expect(trail.map((event) => event.channel)).toEqual([
          'slack',
          'system',
          'slack',
          'system',
          'slack',
          'slack',
        ]);
        expect(trail[4]?.reason).toBe(refusal.reason);
        expect(trail[2]?.reason).toBe(`approve by ${APPROVER.id}`);
        const times = trail.map((event) => event.at);
        expect(times).toEqual([...times].sort());
        expect(new Set(times).size).toBe(times.length);
        for (const event of trail) expect(event.requestId).toBe(granted.requestId);
      });

      it('appends an event without changing the state or the version', async () => {
        const pending = await inState('PENDING_APPROVAL');
        const refusal: NewAuditEvent = {
          at: now(),
          action: 'duplicate.dropped',
          actor: SYSTEM,
          channel: 'system',
          reason: 'command delivered twice',
        };
        await store().appendAudit(pending.requestId, refusal);
        expect(await store().get(pending.requestId)).toEqual(pending);
        expect((await store().auditTrail(pending.requestId)).at(-1)).toEqual<AuditEvent>({
          ...refusal,
          requestId: pending.requestId,
          sequence: 3,
        });
        // The version is untouched, so an update decided before the refusal still applies.
        await expect(
          store().update(pending.requestId, pending.version, { notified: { requester: true } }),
        ).resolves.toMatchObject({
          version: pending.version + 1,
        });
      });

      it('refuses to append to an unknown request', async () => {
        const error = await staleErrorOf(
          store().appendAudit(`REQ-${unique()}`, {
            at: now(),
            action: 'x',
            actor: SYSTEM,
            channel: 'system',
          }),
        );
        expect(error.current).toBeUndefined();
      });
    });

    describe('rememberCommand', () => {
      it('records a command once and then answers with the request it was first recorded with', async () => {
        const commandId = randomUUID();
        expect(await store().rememberCommand(commandId, 'REQ-FIRST001')).toEqual({
          first: true,
          requestId: 'REQ-FIRST001',
        });
        expect(await store().rememberCommand(commandId, 'REQ-LATER001')).toEqual({
          first: false,
          requestId: 'REQ-FIRST001',
        });
        expect(await store().rememberCommand(commandId, 'REQ-FIRST001')).toEqual({
          first: false,
          requestId: 'REQ-FIRST001',
        });
      });

      it('lets exactly one of concurrent deliveries be first, and tells all of them its request', async () => {
        const commandId = randomUUID();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store().rememberCommand(commandId, `REQ-CONC${String(i).padStart(4, '0')}`),
          ),
        );
        const firsts = results.filter((result) => result.first);
        expect(firsts).toHaveLength(1);
        for (const result of results) expect(result.requestId).toBe(firsts[0]?.requestId);
      });
    });

    describe('open slots', () => {
      it('is held by one request until it releases it, then free for another', async () => {
        const slot = `T0001#U${unique()}#orders#read`;
        expect(await store().claimOpenSlot(slot, 'REQ-SLOTA001')).toEqual({ holder: 'REQ-SLOTA001' });
        expect(await store().claimOpenSlot(slot, 'REQ-SLOTA001')).toEqual({ holder: 'REQ-SLOTA001' });
        expect(await store().claimOpenSlot(slot, 'REQ-SLOTB001')).toEqual({ holder: 'REQ-SLOTA001' });

        await store().releaseOpenSlot(slot, 'REQ-SLOTB001');
        expect(await store().claimOpenSlot(slot, 'REQ-SLOTB001')).toEqual({ holder: 'REQ-SLOTA001' });

        await store().releaseOpenSlot(slot, 'REQ-SLOTA001');
        await store().releaseOpenSlot(slot, 'REQ-SLOTA001');
        expect(await store().claimOpenSlot(slot, 'REQ-SLOTB001')).toEqual({ holder: 'REQ-SLOTB001' });
        expect(await store().claimOpenSlot(slot, 'REQ-SLOTA001')).toEqual({ holder: 'REQ-SLOTB001' });
      });

      it('keeps slots apart', async () => {
        const user = `U${unique()}`;
        expect(await store().claimOpenSlot(`T0001#${user}#orders#read`, 'REQ-APART001')).toEqual({
          holder: 'REQ-APART001',
        });
        expect(await store().claimOpenSlot(`T0001#${user}#orders#write`, 'REQ-APART002')).toEqual({
          holder: 'REQ-APART002',
        });
      });

      it('releases a free slot as a no-op', async () => {
        await expect(
          store().releaseOpenSlot(`T0001#U${unique()}#orders#read`, 'REQ-NOBODY01'),
        ).resolves.toBeUndefined();
      });

      it('gives concurrent claims by two requests one holder, which all of them are told', async () => {
        const slot = `T0001#U${unique()}#orders#read`;
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store().claimOpenSlot(slot, i % 2 === 0 ? 'REQ-RACEA001' : 'REQ-RACEB001'),
          ),
        );
        const holders = new Set(results.map((result) => result.holder));
        expect(holders.size).toBe(1);
        expect(['REQ-RACEA001', 'REQ-RACEB001']).toContain([...holders][0]);
      });
    });

    describe('queries', () => {
      it('lists one requester’s requests, newest first', async () => {
        const requester = { slackUserId: `U${unique()}`, slackTeamId: 'T0001' };
        const oldest = await submitted({ requester });
        const middle = await inState('PENDING_APPROVAL', { requester });
        const newest = await submitted({ requester });
        await submitted({ requester: { ...requester, slackUserId: `U${unique()}` } });
        await submitted({ requester: { ...requester, slackTeamId: 'T0002' } });

        const listed = await store().listByRequester(requester.slackTeamId, requester.slackUserId);
        expect(listed.map((request) => request.requestId)).toEqual([
          newest.requestId,
          middle.requestId,
          oldest.requestId,
        ]);
        expect(listed[1]).toEqual(middle);
        const limited = await store().listByRequester(requester.slackTeamId, requester.slackUserId, 2);
        expect(limited.map((request) => request.requestId)).toEqual([newest.requestId, middle.requestId]);
        expect(await store().listByRequester('T0001', `U${unique()}`)).toEqual([]);
      });

      it('lists requests in a state, oldest change first, and moves a request between lists', async () => {
        const first = await submitted();
        const second = await submitted();
        const ours = (requests: AccessRequest[]) =>
          requests
            .map((request) => request.requestId)
            .filter((id) => id === first.requestId || id === second.requestId);

        expect(ours(await store().listByState('SUBMITTED'))).toEqual([first.requestId, second.requestId]);
        // A change of any kind counts: the first request is now the more recently changed one.
        const touched = await store().update(first.requestId, first.version, { eligibleVia: 'DB-Readers' });
        expect(ours(await store().listByState('SUBMITTED'))).toEqual([second.requestId, first.requestId]);

        const open = TRANSITIONS.find((t) => t.event === 'open') as Transition;
        const opened = await store().transition(first.requestId, moveFor(open, touched));
        expect(ours(await store().listByState('SUBMITTED'))).toEqual([second.requestId]);
        const pending = await store().listByState('PENDING_APPROVAL');
        expect(ours(pending)).toEqual([first.requestId]);
        expect(pending.find((request) => request.requestId === first.requestId)).toEqual(opened);
      });

      it('honours a limit', async () => {
        await submitted();
        await submitted();
        expect(await store().listByState('SUBMITTED', 1)).toHaveLength(1);
      });
    });
  });
}
