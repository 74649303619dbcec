import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AdfNode, TicketDraft } from '../../shared/adapters/jira/adf.js';
import type { Catalog } from '../../shared/config/catalog-schema.js';
import type { AccessRequest } from '../../shared/domain/access-request.js';
import { InvalidRequestIdError } from '../../shared/domain/errors.js';
import type { Ticket, TicketNote, TicketTracker } from '../../shared/ports/ticket-tracker.js';
import { accessRequest } from '../fixtures/access-request.js';
import { exampleCatalog } from '../fixtures/catalog.js';

/**
 * What a TicketTracker implementation brings to the contract. Its tracker opens tickets in
 * `projectKey` with `issueType` (build it with `contractCatalog`).
 */
export interface TicketTrackerContractSubject {
  readonly tracker: TicketTracker;
  readonly projectKey: string;
  readonly issueType: string;
  /** The request id stored on the ticket, read by other means than the tracker under test. */
  requestIdOnTicket(ticket: Ticket): Promise<string | undefined>;
  /** How many tickets exist for the request, read by other means than the tracker under test. */
  ticketCount(requestId: string): Promise<number>;
  /**
   * Lets searches see everything written so far. Jira's search index lags, so a tracker may not
   * find a ticket it created a moment ago; the contract is about what it finds once settled.
   */
  settle?(): Promise<void> | void;
  /**
   * Status names in the workflow of `issueType`: where a new ticket starts, one a transition
   * leads to from there, and one no transition leads to from there.
   */
  readonly statuses: { readonly initial: string; readonly reachable: string; readonly unreachable: string };
  /** Accounts on the tracker's site, to look up. */
  readonly accounts: {
    /** The account the tracker acts as. */
    readonly self: string;
    /** A person whose profile shows their e-mail address to the tracker's account. */
    readonly visible: { readonly accountId: string; readonly email: string };
    /** A person whose profile hides their e-mail address. */
    readonly hidden: string;
    /** A deactivated person; the address would otherwise be visible. */
    readonly deactivated: string;
  };
  /** The ticket's status, read by other means than the tracker under test. */
  statusOf(ticket: Ticket): Promise<string | undefined>;
  /** The ticket's comments as ADF documents, oldest first, read by other means. */
  commentsOn(ticket: Ticket): Promise<readonly unknown[]>;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A request id no other test uses (8 random Crockford characters: collisions are negligible). */
export function freshRequestId(): string {
  let body = '';
  for (let i = 0; i < 8; i++) body += CROCKFORD[randomInt(CROCKFORD.length)];
  return `REQ-${body}`;
}

/** The example catalog, opening tickets in `projectKey` as `issueType`. */
export function contractCatalog(projectKey: string, issueType: string): Catalog {
  const catalog = exampleCatalog();
  return {
    ...catalog,
    global: { ...catalog.global, jira: { ...catalog.global.jira, projectKey, issueType } },
  };
}

/** A verified request waiting for approval, as the worker hands it to `create`. */
export function contractRequest(requestId: string, overrides: Partial<AccessRequest> = {}): AccessRequest {
  const { ticket: _none, ...request } = accessRequest({ requestId });
  return { ...request, ...overrides };
}

/** A draft as Jira's create call takes it, for the adapter's wire-level tests. */
export function contractDraft(
  target: Pick<TicketTrackerContractSubject, 'projectKey' | 'issueType'>,
  requestId: string,
): TicketDraft {
  return {
    requestId,
    projectKey: target.projectKey,
    issueType: target.issueType,
    summary: `MySQL access ${requestId}: orders-db read for 2h`,
    description: {
      type: 'doc',
      version: 1,
      content: [
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'Requested by ' },
            { type: 'text', text: 'alice@example.com', marks: [{ type: 'strong' }] },
          ],
        },
      ],
    },
    labels: ['jit-access', 'orders-db'],
  };
}

/** The text of an ADF document (or node), its text nodes joined, for checks that survive formatting. */
export function adfText(node: unknown): string {
  if (typeof node !== 'object' || node === null) return '';
  const { text, content } = node as Partial<AdfNode>;
  return `${typeof text === 'string' ? text : ''}${Array.isArray(content) ? content.map(adfText).join('') : ''}`;
}

/** Two approvers' approval: its comment names both. */
function approvalNote(requestId: string): TicketNote {
  const at = '2026-11-21T10:05:00.000Z';
  const approval = (account: string) => ({
    account,
    dn: `CN=${account},OU=People,DC=example,DC=test`,
    channel: 'jira' as const,
    actorId: `712020:${account}`,
    via: 'CN=db-approvers,OU=Groups,DC=example,DC=test',
    at,
  });
  return {
    kind: 'decision',
    moved: 'moved',
    request: contractRequest(requestId, {
      state: 'APPROVED',
      approvals: [approval('bob'), approval('frank')],
      decision: { outcome: 'approved', channel: 'jira', actorId: '712020:frank', account: 'frank', at },
    }),
  };
}

/**
 * What every TicketTracker must do, whatever Jira it talks to. `setup` runs before each test and
 * must hand back a tracker on a clean (or at least unshared) tracker state.
 */
export function ticketTrackerContract(
  name: string,
  setup: () => Promise<TicketTrackerContractSubject> | TicketTrackerContractSubject,
): void {
  describe(`TicketTracker contract: ${name}`, () => {
    it('creates a ticket that findByRequestId then returns, with the same id, key and browse URL', async () => {
      const subject = await setup();
      const requestId = freshRequestId();
      const created = await subject.tracker.create(contractRequest(requestId));
      expect(created.key).toMatch(new RegExp(`^${subject.projectKey}-\\d+$`));
      expect(created.url).toMatch(new RegExp(`/browse/${created.key}$`));
      await subject.settle?.();
      expect(await subject.tracker.findByRequestId(requestId)).toEqual(created);
      expect(await subject.ticketCount(requestId)).toBe(1);
    });

    it('finds nothing for a request that has no ticket', async () => {
      const subject = await setup();
      await subject.tracker.create(contractRequest(freshRequestId()));
      await subject.settle?.();
      expect(await subject.tracker.findByRequestId(freshRequestId())).toBeUndefined();
    });

    it('stores the request id on the ticket itself', async () => {
      const subject = await setup();
      const requestId = freshRequestId();
      const created = await subject.tracker.create(contractRequest(requestId));
      expect(await subject.requestIdOnTicket(created)).toBe(requestId);
    });

    it('keeps requests apart: each finds its own ticket', async () => {
      const subject = await setup();
      const first = freshRequestId();
      const second = freshRequestId();
      const firstTicket = await subject.tracker.create(contractRequest(first));
      const secondTicket = await subject.tracker.create(contractRequest(second));
      expect(secondTicket.key).not.toBe(firstTicket.key);
      await subject.settle?.();
      expect(await subject.tracker.findByRequestId(first)).toEqual(firstTicket);
      expect(await subject.tracker.findByRequestId(second)).toEqual(secondTicket);
    });

    it('returns the oldest ticket when a request ended up with two', async () => {
      const subject = await setup();
      const requestId = freshRequestId();
      const oldest = await subject.tracker.create(contractRequest(requestId));
      await subject.tracker.create(contractRequest(requestId));
      await subject.settle?.();
      expect(await subject.ticketCount(requestId)).toBe(2);
      expect(await subject.tracker.findByRequestId(requestId)).toEqual(oldest);
    });

    describe('read', () => {
      it('reads a ticket by id and by key: its project, status and request id', async () => {
        const subject = await setup();
        const requestId = freshRequestId();
        const created = await subject.tracker.create(contractRequest(requestId));
        const expected = {
          id: created.id,
          key: created.key,
          projectKey: subject.projectKey,
          status: subject.statuses.initial,
          requestId,
        };
        expect(await subject.tracker.read(created.key)).toEqual(expected);
        expect(await subject.tracker.read(created.id)).toEqual(expected);
      });

      it('reads nothing for a ticket that does not exist', async () => {
        const subject = await setup();
        expect(await subject.tracker.read(`${subject.projectKey}-987654`)).toBeUndefined();
      });

      it.each([
        ['empty', ''],
        ['a path', '../myself'],
        ['a key with a query string', 'DBA-1?expand=changelog'],
        ['a lower-case key', 'dba-1'],
        ['a key without a number', 'DBA-'],
        ['JQL', 'DBA-1 OR project = OPS'],
      ])('refuses an issue id or key that is %s', async (_, issueIdOrKey) => {
        const subject = await setup();
        await expect(subject.tracker.read(issueIdOrKey)).rejects.toBeInstanceOf(TypeError);
        await expect(subject.tracker.moveTo(issueIdOrKey, subject.statuses.reachable)).rejects.toBeInstanceOf(
          TypeError,
        );
        await expect(
          subject.tracker.comment(issueIdOrKey, approvalNote(freshRequestId())),
        ).rejects.toBeInstanceOf(TypeError);
      });
    });

    describe('moveTo', () => {
      it('moves a ticket to a status a transition leads to, and then finds it already there', async () => {
        const subject = await setup();
        const created = await subject.tracker.create(contractRequest(freshRequestId()));
        expect(await subject.tracker.moveTo(created.key, subject.statuses.reachable)).toBe('moved');
        expect(await subject.statusOf(created)).toBe(subject.statuses.reachable);
        expect((await subject.tracker.read(created.key))?.status).toBe(subject.statuses.reachable);
        expect(await subject.tracker.moveTo(created.id, subject.statuses.reachable)).toBe('already_there');
        expect(await subject.statusOf(created)).toBe(subject.statuses.reachable);
      });

      it('finds a new ticket already in its initial status', async () => {
        const subject = await setup();
        const created = await subject.tracker.create(contractRequest(freshRequestId()));
        expect(await subject.tracker.moveTo(created.key, subject.statuses.initial)).toBe('already_there');
      });

      it('reports no transition to a status the workflow does not reach from here, and leaves the ticket', async () => {
        const subject = await setup();
        const created = await subject.tracker.create(contractRequest(freshRequestId()));
        expect(await subject.tracker.moveTo(created.key, subject.statuses.unreachable)).toBe('no_transition');
        expect(await subject.tracker.moveTo(created.key, 'No Such Status')).toBe('no_transition');
        expect(await subject.statusOf(created)).toBe(subject.statuses.initial);
      });

      it('matches the status name ignoring case when nothing matches exactly', async () => {
        const subject = await setup();
        const created = await subject.tracker.create(contractRequest(freshRequestId()));
        const shouted = subject.statuses.reachable.toUpperCase();
        expect(await subject.tracker.moveTo(created.key, shouted)).toBe('moved');
        expect(await subject.statusOf(created)).toBe(subject.statuses.reachable);
        expect(await subject.tracker.moveTo(created.key, shouted.toLowerCase())).toBe('already_there');
      });
    });

    describe('keysInStatus and lastMoveTo', () => {
      it('finds the tickets now in a status, and who last moved each there from where', async () => {
        const subject = await setup();
        const [moved, left] = [
          await subject.tracker.create(contractRequest(freshRequestId())),
          await subject.tracker.create(contractRequest(freshRequestId())),
        ];
        expect(await subject.tracker.moveTo(moved.key, subject.statuses.reachable)).toBe('moved');
        await subject.settle?.();
        const keys = await subject.tracker.keysInStatus(subject.statuses.reachable, 50);
        expect(keys).toContain(moved.key);
        expect(keys).not.toContain(left.key);
        expect(await subject.tracker.lastMoveTo(moved.key, subject.statuses.reachable)).toMatchObject({
          accountId: subject.accounts.self,
          fromStatus: subject.statuses.initial,
          toStatus: subject.statuses.reachable,
        });
        expect(await subject.tracker.lastMoveTo(left.key, subject.statuses.reachable)).toBeUndefined();
      });
    });

    describe('comment', () => {
      it('adds the note once, as a comment that says what happened and who did it', async () => {
        const subject = await setup();
        const requestId = freshRequestId();
        const created = await subject.tracker.create(contractRequest(requestId));
        await subject.tracker.comment(created.key, approvalNote(requestId));
        const comments = await subject.commentsOn(created);
        expect(comments).toHaveLength(1);
        expect(adfText(comments[0])).toMatch(/^Approved by bob \(in Jira\), frank \(in Jira\)\./);
      });
    });

    describe('accounts', () => {
      it("gives a person's e-mail address when their profile shows it", async () => {
        const subject = await setup();
        expect(await subject.tracker.accountEmail(subject.accounts.visible.accountId)).toBe(
          subject.accounts.visible.email,
        );
      });

      it('gives no address for a hidden one, a deactivated account or an unknown account', async () => {
        const subject = await setup();
        expect(await subject.tracker.accountEmail(subject.accounts.hidden)).toBeUndefined();
        expect(await subject.tracker.accountEmail(subject.accounts.deactivated)).toBeUndefined();
        expect(
          await subject.tracker.accountEmail('557058:00000000-0000-0000-0000-000000000000'),
        ).toBeUndefined();
      });

      it.each([
        ['a path', '../myself'],
        ['a space', 'a b'],
        ['a query string', 'x&accountId=y'],
        ['over 128 characters', 'a'.repeat(200)],
        ['empty', ''],
      ])('gives no address for an account id with %s', async (_, accountId) => {
        const subject = await setup();
        expect(await subject.tracker.accountEmail(accountId)).toBeUndefined();
      });

      it('knows the account it acts as, every time', async () => {
        const subject = await setup();
        expect(await subject.tracker.selfAccountId()).toBe(subject.accounts.self);
        expect(await subject.tracker.selfAccountId()).toBe(subject.accounts.self);
      });
    });

    it.each([
      ['lower case', 'req-0k2m9q7x'],
      ['too short', 'REQ-0K2M9Q7'],
      ['a letter Crockford leaves out', 'REQ-0K2M9Q7U'],
      ['JQL smuggled in', 'REQ-0K2M9Q7X" OR project = "OPS'],
      ['empty', ''],
    ])('refuses a request id that is %s, before asking Jira', async (_, requestId) => {
      const subject = await setup();
      await expect(subject.tracker.findByRequestId(requestId)).rejects.toBeInstanceOf(InvalidRequestIdError);
      await expect(subject.tracker.create(contractRequest(requestId))).rejects.toBeInstanceOf(
        InvalidRequestIdError,
      );
      expect(await subject.ticketCount(requestId)).toBe(0);
    });
  });
}
