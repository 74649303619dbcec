import { describe, expect, it } from 'vitest';
import type { RequestSubmitted } from '../../../shared/messages/commands.js';
import { TrackerRejectedError } from '../../../shared/ports/ticket-tracker.js';
import { cancelRequest } from '../../../shared/use-cases/cancel-request.js';
import { decideRequest } from '../../../shared/use-cases/decide-request.js';
import { submitRequest } from '../../../shared/use-cases/submit-request.js';
import { type Person, type WorkerWorld, workerWorld } from '../../fakes/worker-world.js';

async function pending(world: WorkerWorld, target?: RequestSubmitted['target']): Promise<string> {
  const command = world.submitted('alice', {}, target);
  await submitRequest(world.deps, command);
  world.notifier.notices.length = 0;
  return command.requestId;
}

const jiraMove = (toStatus: string) => ({ issueKey: 'DBA-1', fromStatus: 'To Do', toStatus });

describe('decideRequest', () => {
  it('approves on one verified approval: ticket moved and noted, approvers message refreshed, requester told', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    const outcome = await decideRequest(world.deps, world.decidedInSlack('bob', requestId, 'approve'));

    expect(outcome.kind).toBe('approved');
    expect(await world.store.get(requestId)).toMatchObject({
      state: 'APPROVED',
      approvals: [{ account: 'bob', channel: 'slack' }],
      decision: { outcome: 'approved', account: 'bob' },
      effects: { ticket: true, approversMessage: true, requester: true },
    });
    expect(world.tickets.moves).toEqual([{ key: 'DBA-1', status: 'Approved', outcome: 'moved' }]);
    expect(world.tickets.comments).toEqual([
      { key: 'DBA-1', note: { kind: 'decision', request: expect.anything(), moved: 'moved' } },
    ]);
    expect(world.notifier.refreshed.map((r) => r.request.state)).toEqual(['APPROVED']);
    expect(world.notifier.notices).toEqual([{ kind: 'request.decided', request: expect.anything() }]);
  });

  it('denies with the reason, and frees the slot for a new request', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    const deny = world.decidedInSlack('bob', requestId, 'deny', { reason: 'use the replica' });
    expect((await decideRequest(world.deps, deny)).kind).toBe('denied');
    expect(await world.store.get(requestId)).toMatchObject({
      state: 'DENIED',
      decision: { outcome: 'denied', reason: 'use the replica' },
    });
    expect(world.tickets.moves.at(-1)).toMatchObject({ status: 'Declined' });
    expect((await submitRequest(world.deps, world.submitted('alice'))).kind).toBe('pending');
  });

  it.each<[string, Person, 'slack' | 'jira', string]>([
    ['the requester, even in an approver group', 'alice', 'slack', 'own_request'],
    ['someone in no approver group', 'dave', 'slack', 'not_approver'],
    ['a disabled approver', 'carol', 'slack', 'disabled'],
    ['the requester moving the ticket', 'alice', 'jira', 'own_request'],
    ['a non-approver moving the ticket', 'dave', 'jira', 'not_approver'],
  ])('refuses %s, changing nothing', async (_, person, channel, refusal) => {
    const world = workerWorld();
    const requestId = await pending(world);
    const command =
      channel === 'slack'
        ? world.decidedInSlack(person, requestId, 'approve')
        : world.decidedInJira(person, requestId, 'approve', jiraMove('Approved'));
    expect(await decideRequest(world.deps, command)).toEqual({ kind: 'refused', refusal });
    expect((await world.store.get(requestId))?.state).toBe('PENDING_APPROVAL');
    expect((await world.store.auditTrail(requestId)).at(-1)).toMatchObject({
      action: 'approve.refused',
      reason: expect.stringMatching(new RegExp(`^${refusal}: `)),
    });
    if (channel === 'slack') {
      // Answered where they clicked; the adapter decides how.
      expect(world.notifier.notices).toEqual([
        {
          kind: 'decision.refused',
          to: { userId: world.slackId(person), actedIn: 'C0APPROVALS' },
          requestId,
          action: 'approve',
          refusal: expect.objectContaining({ kind: refusal }),
        },
      ]);
      expect(world.tickets.comments).toEqual([]);
    } else {
      // Answered on the ticket, which goes back where the request really is.
      expect(world.notifier.notices).toEqual([]);
      expect(world.tickets.comments).toEqual([
        {
          key: 'DBA-1',
          note: {
            kind: 'refusal',
            accountId: world.jiraId(person),
            refusal: expect.objectContaining({ kind: refusal }),
            movedBack: { status: 'To Do', outcome: 'already_there' },
          },
        },
      ]);
    }
  });

  it('tells a refusal once however often the command is redelivered', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    const command = world.decidedInSlack('dave', requestId, 'approve');
    await decideRequest(world.deps, command);
    expect(await decideRequest(world.deps, command)).toEqual({ kind: 'ignored', why: 'repeated_refusal' });
    expect(world.notifier.kinds()).toEqual(['decision.refused']);
  });

  it('refuses an approval of a request that is no longer pending, naming its state', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    await decideRequest(world.deps, world.decidedInSlack('bob', requestId, 'deny'));
    expect(await decideRequest(world.deps, world.decidedInSlack('frank', requestId, 'approve'))).toEqual({
      kind: 'refused',
      refusal: 'not_pending',
    });
    expect(world.notifier.notices.at(-1)).toMatchObject({
      kind: 'decision.refused',
      refusal: { kind: 'not_pending', state: 'DENIED' },
    });
  });

  it('collects two distinct approvals for a two-approval level, the same person counting once', async () => {
    const world = workerWorld();
    const requestId = await pending(world, { database: 'orders', level: 'write' });
    const first = await decideRequest(world.deps, world.decidedInSlack('bob', requestId, 'approve'));
    expect(first).toMatchObject({ kind: 'approval_recorded', remaining: 1 });
    expect(world.notifier.notices).toEqual([
      {
        kind: 'approval.recorded',
        to: { userId: world.slackId('bob'), actedIn: 'C0APPROVALS' },
        request: expect.anything(),
        remaining: 1,
      },
    ]);
    expect(world.tickets.noteKinds()).toEqual(['approval.recorded']);

    const again = await decideRequest(
      world.deps,
      world.decidedInJira('bob', requestId, 'approve', jiraMove('Approved')),
    );
    expect(again).toEqual({ kind: 'refused', refusal: 'already_approved_by_you' });
    expect((await world.store.get(requestId))?.state).toBe('PENDING_APPROVAL');

    const second = await decideRequest(world.deps, world.decidedInSlack('frank', requestId, 'approve'));
    expect(second.kind).toBe('approved');
    expect((await world.store.get(requestId))?.approvals?.map((a) => a.account)).toEqual(['bob', 'frank']);
  });

  it('moves a Jira approval back while more approvals are needed', async () => {
    const world = workerWorld();
    const requestId = await pending(world, { database: 'orders', level: 'write' });
    await world.tickets.moveTo('DBA-1', 'Approved');
    await decideRequest(world.deps, world.decidedInJira('bob', requestId, 'approve', jiraMove('Approved')));
    expect(world.tickets.moves.at(-1)).toEqual({ key: 'DBA-1', status: 'To Do', outcome: 'moved' });
    expect(world.tickets.comments.at(-1)?.note).toMatchObject({
      kind: 'approval.recorded',
      required: 2,
      movedBack: { status: 'To Do', outcome: 'moved' },
    });
  });

  it('ignores the echo of its own ticket moves', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    const echo = {
      ...world.decidedInJira('bob', requestId, 'approve', jiraMove('Approved')),
      actor: { kind: 'jira' as const, accountId: world.tickets.self },
    };
    expect(await decideRequest(world.deps, echo)).toEqual({ kind: 'ignored', why: 'own_echo' });
    expect((await world.store.get(requestId))?.state).toBe('PENDING_APPROVAL');
  });

  it('keeps a decision when Jira refuses the ticket update for good, and audits the lag', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    world.tickets.failNext('moveTo', new TrackerRejectedError('no permission to transition', 403));
    expect((await decideRequest(world.deps, world.decidedInSlack('bob', requestId, 'approve'))).kind).toBe(
      'approved',
    );
    expect((await world.store.get(requestId))?.state).toBe('APPROVED');
    expect((await world.store.auditTrail(requestId)).map((e) => e.action)).toContain('ticket.not_updated');
    expect(world.notifier.kinds()).toEqual(['request.decided']);
  });

  it('finishes effects a crash left undone when the same decision comes again, doing nothing twice', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    const approve = world.decidedInSlack('bob', requestId, 'approve');
    world.notifier.failNext('refreshAnnouncement', new Error('Slack went away'));
    await expect(decideRequest(world.deps, approve)).rejects.toThrow('Slack went away');
    expect((await world.store.get(requestId))?.state).toBe('APPROVED');

    expect((await decideRequest(world.deps, approve)).kind).toBe('approved');
    expect(world.tickets.comments).toHaveLength(1);
    expect(world.notifier.refreshed).toHaveLength(1);
    expect(world.notifier.kinds()).toEqual(['request.decided']);
  });
});

describe('cancelRequest', () => {
  it('cancels a pending request for its requester, closing the ticket and telling them', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    expect((await cancelRequest(world.deps, world.cancel('alice', requestId))).kind).toBe('cancelled');
    expect((await world.store.get(requestId))?.state).toBe('CANCELLED');
    expect(world.tickets.moves.at(-1)).toMatchObject({ status: 'Done' });
    expect(world.tickets.comments.at(-1)?.note).toMatchObject({
      kind: 'decision',
      request: { decision: { outcome: 'cancelled' } },
    });
    expect(world.notifier.kinds()).toEqual(['request.decided']);
  });

  it.each<[string, Person, string]>([
    ["someone else's request", 'bob', 'not_requester'],
    ['an unknown request', 'alice', 'unknown_request'],
  ])('refuses %s by DM', async (_, person, refusal) => {
    const world = workerWorld();
    const requestId = refusal === 'unknown_request' ? 'REQ-0000ZZZZ' : await pending(world);
    expect(await cancelRequest(world.deps, world.cancel(person, requestId))).toEqual({
      kind: 'refused',
      refusal,
    });
    expect(world.notifier.notices).toEqual([
      {
        kind: 'decision.refused',
        to: { userId: world.slackId(person) },
        requestId,
        action: 'cancel',
        refusal: { kind: refusal },
      },
    ]);
  });

  it('refuses to cancel an approved request', async () => {
    const world = workerWorld();
    const requestId = await pending(world);
    await decideRequest(world.deps, world.decidedInSlack('bob', requestId, 'approve'));
    expect(await cancelRequest(world.deps, world.cancel('alice', requestId))).toEqual({
      kind: 'refused',
      refusal: 'not_pending',
    });
    expect((await world.store.get(requestId))?.state).toBe('APPROVED');
  });
});
