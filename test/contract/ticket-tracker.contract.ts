import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidRequestIdError } from '../../shared/domain/errors.js';
import type { Ticket, TicketDraft, TicketTracker } from '../../shared/ports/ticket-tracker.js';

/** What a TicketTracker implementation brings to the contract. */
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
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A request id no other test uses (8 random Crockford characters: collisions are negligible). */
export function freshRequestId(): string {
  let body = '';
  for (let i = 0; i < 8; i++) body += CROCKFORD[randomInt(CROCKFORD.length)];
  return `REQ-${body}`;
}

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
      const created = await subject.tracker.create(contractDraft(subject, requestId));
      expect(created.key).toMatch(new RegExp(`^${subject.projectKey}-\\d+$`));
      expect(created.url).toMatch(new RegExp(`/browse/${created.key}$`));
      await subject.settle?.();
      expect(await subject.tracker.findByRequestId(requestId)).toEqual(created);
      expect(await subject.ticketCount(requestId)).toBe(1);
    });

    it('finds nothing for a request that has no ticket', async () => {
      const subject = await setup();
      await subject.tracker.create(contractDraft(subject, freshRequestId()));
      await subject.settle?.();
      expect(await subject.tracker.findByRequestId(freshRequestId())).toBeUndefined();
    });

    it('stores the request id on the ticket itself', async () => {
      const subject = await setup();
      const requestId = freshRequestId();
      const created = await subject.tracker.create(contractDraft(subject, requestId));
      expect(await subject.requestIdOnTicket(created)).toBe(requestId);
    });

    it('keeps requests apart: each finds its own ticket', async () => {
      const subject = await setup();
      const first = freshRequestId();
      const second = freshRequestId();
      const firstTicket = await subject.tracker.create(contractDraft(subject, first));
      const secondTicket = await subject.tracker.create(contractDraft(subject, second));
      expect(secondTicket.key).not.toBe(firstTicket.key);
      await subject.settle?.();
      expect(await subject.tracker.findByRequestId(first)).toEqual(firstTicket);
      expect(await subject.tracker.findByRequestId(second)).toEqual(secondTicket);
    });

    it('returns the oldest ticket when a request ended up with two', async () => {
      const subject = await setup();
      const requestId = freshRequestId();
      const oldest = await subject.tracker.create(contractDraft(subject, requestId));
      await subject.tracker.create(contractDraft(subject, requestId));
      await subject.settle?.();
      expect(await subject.ticketCount(requestId)).toBe(2);
      expect(await subject.tracker.findByRequestId(requestId)).toEqual(oldest);
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
      await expect(subject.tracker.create(contractDraft(subject, requestId))).rejects.toBeInstanceOf(
        InvalidRequestIdError,
      );
      expect(await subject.ticketCount(requestId)).toBe(0);
    });
  });
}
