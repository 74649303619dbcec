import { describe, expect, it } from 'vitest';
import { DirectoryUnavailableError } from '../../../shared/ports/directory.js';
import { submitRequest } from '../../../shared/use-cases/submit-request.js';
import { workerWorld } from '../../fakes/worker-world.js';

describe('submitRequest', () => {
  it('opens one ticket, asks the approvers, tells the requester, and waits for approval', async () => {
    const world = workerWorld();
    const command = world.submitted('alice');
    const outcome = await submitRequest(world.deps, command);

    expect(outcome.kind).toBe('pending');
    const stored = await world.store.get(command.requestId);
    expect(stored).toMatchObject({
      state: 'PENDING_APPROVAL',
      ticket: { key: 'DBA-1' },
      eligibleVia: 'CN=eng-db-readers,OU=Groups,DC=example,DC=com',
      requester: { directoryAccount: 'alice', email: 'alice@example.com' },
      slack: { approversMessage: { channelId: 'C0APPROVALS' } },
      notified: { approvers: true, requester: true },
    });
    expect(world.tickets.tickets.map((t) => t.requestId)).toEqual([command.requestId]);
    expect(world.notifier.announced.map((r) => r.requestId)).toEqual([command.requestId]);
    expect(world.notifier.notices).toEqual([
      { kind: 'request.pending', request: expect.objectContaining({ requestId: command.requestId }) },
    ]);
    expect((await world.store.auditTrail(command.requestId)).map((e) => e.action)).toEqual([
      'submit',
      'requester.verified',
      'open',
    ]);
  });

  it('does everything once however often the command is delivered', async () => {
    const world = workerWorld();
    const command = world.submitted('alice');
    await submitRequest(world.deps, command);
    await submitRequest(world.deps, command);
    await Promise.all([submitRequest(world.deps, command), submitRequest(world.deps, command)]);

    expect(world.tickets.tickets).toHaveLength(1);
    expect(world.notifier.announced).toHaveLength(1);
    expect(world.notifier.kinds()).toEqual(['request.pending']);
  });

  it('finishes only what a crashed attempt left undone (the requester DM failed)', async () => {
    const world = workerWorld();
    const command = world.submitted('alice');
    world.notifier.failNext('notify', new Error('Slack went away'));
    await expect(submitRequest(world.deps, command)).rejects.toThrow('Slack went away');
    expect(world.notifier.announced).toHaveLength(1);

    await submitRequest(world.deps, command);
    expect(world.tickets.tickets).toHaveLength(1);
    expect(world.notifier.announced).toHaveLength(1);
    expect(world.notifier.kinds()).toEqual(['request.pending']);
  });

  it.each([
    ['dave, in no requester group', 'dave', 'not_eligible', 'not_eligible: not a member of eng-db-readers'],
    ['carol, whose account is disabled', 'carol', 'disabled', 'disabled: the directory account is disabled'],
  ] as const)('rejects %s with a typed reason and a plain-text audit', async (_, person, kind, audit) => {
    const world = workerWorld();
    const command = world.submitted(person);
    const outcome = await submitRequest(world.deps, command);

    expect(outcome).toMatchObject({ kind: 'rejected', reason: kind });
    expect((await world.store.get(command.requestId))?.state).toBe('REJECTED');
    expect(world.tickets.tickets).toEqual([]);
    expect(world.notifier.notices).toEqual([
      { kind: 'request.rejected', request: expect.anything(), reason: expect.objectContaining({ kind }) },
    ]);
    const trail = await world.store.auditTrail(command.requestId);
    expect(trail.at(-1)).toMatchObject({ action: 'reject', to: 'REJECTED', reason: audit });
    // Audit reasons are domain values: no Slack markup in them.
    expect(trail.at(-1)?.reason).not.toMatch(/[`*<>]/);
  });

  it.each(['guest', 'other_workspace', 'unconfirmed_email'] as const)(
    'rejects a Slack account that is not a full member (%s): told why, recorded',
    async (why) => {
      const world = workerWorld();
      world.identity.nonMembers.set(world.slackId('alice'), why);
      const command = world.submitted('alice');
      expect(await submitRequest(world.deps, command)).toMatchObject({
        kind: 'rejected',
        reason: 'not_member',
      });
      expect(world.notifier.notices).toEqual([
        { kind: 'request.rejected', request: expect.anything(), reason: { kind: 'not_member', why } },
      ]);
      const trail = await world.store.auditTrail(command.requestId);
      expect(trail.at(-1)).toMatchObject({ action: 'reject', reason: expect.stringContaining('not_member') });
    },
  );

  it('rejects a Slack profile without e-mail, and one no directory account matches', async () => {
    const world = workerWorld();
    world.identity.emails.delete(world.slackId('alice'));
    const noEmail = world.submitted('alice');
    expect(await submitRequest(world.deps, noEmail)).toMatchObject({ kind: 'rejected', reason: 'no_email' });

    world.identity.emails.set(world.slackId('alice'), 'nobody@example.com');
    const noAccount = world.submitted('alice');
    expect(await submitRequest(world.deps, noAccount)).toMatchObject({
      kind: 'rejected',
      reason: 'no_account',
    });
  });

  it('refuses a second open request for the same level, naming the open one', async () => {
    const world = workerWorld();
    const first = world.submitted('alice');
    await submitRequest(world.deps, first);
    const second = world.submitted('alice');
    const outcome = await submitRequest(world.deps, second);

    expect(outcome).toEqual({ kind: 'already_open', openRequestId: first.requestId });
    expect(world.notifier.notices.at(-1)).toEqual({
      kind: 'request.already_open',
      to: { userId: world.slackId('alice') },
      openRequestId: first.requestId,
      database: 'orders',
      level: 'read',
    });
    expect(await world.store.get(second.requestId)).toBeUndefined();
  });

  it('keeps the first of two ids for the same submission, and says so', async () => {
    const world = workerWorld();
    const first = world.submitted('alice');
    await submitRequest(world.deps, first);
    const repeat = { ...first, requestId: 'REQ-1ZZZZZZZ' };
    expect(await submitRequest(world.deps, repeat)).toEqual({
      kind: 'duplicate',
      originalRequestId: first.requestId,
    });
    expect(world.notifier.notices.at(-1)).toMatchObject({
      kind: 'request.duplicate',
      requestId: 'REQ-1ZZZZZZZ',
      originalRequestId: first.requestId,
    });
  });

  it('keeps the request through a directory outage and tells the requester once, after a minute', async () => {
    const world = workerWorld();
    world.directory.down = true;
    const command = world.submitted('alice');
    await expect(submitRequest(world.deps, command)).rejects.toBeInstanceOf(DirectoryUnavailableError);
    expect(world.notifier.notices).toEqual([]);

    world.clock.advance(90_000);
    await expect(submitRequest(world.deps, command)).rejects.toBeInstanceOf(DirectoryUnavailableError);
    await expect(submitRequest(world.deps, command)).rejects.toBeInstanceOf(DirectoryUnavailableError);
    expect(world.notifier.kinds()).toEqual(['request.delayed']);

    world.directory.down = false;
    expect((await submitRequest(world.deps, command)).kind).toBe('pending');
    expect((await world.store.get(command.requestId))?.state).toBe('PENDING_APPROVAL');
  });

  it('reuses the ticket an earlier attempt opened, found by its request id', async () => {
    const world = workerWorld();
    const command = world.submitted('alice');
    // An attempt that created the ticket and died before recording it.
    await world.tickets.create({ requestId: command.requestId } as never);
    await submitRequest(world.deps, command);
    expect(world.tickets.tickets).toHaveLength(1);
    expect((await world.store.get(command.requestId))?.ticket?.key).toBe('DBA-1');
  });
});
