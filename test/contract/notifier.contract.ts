import { describe, expect, it } from 'vitest';
import type { AccessRequest, Extension } from '../../shared/domain/access-request.js';
import {
  ChatRejectedError,
  ChatUnavailableError,
  type Notice,
  type NoticeKind,
  type Notifier,
} from '../../shared/ports/chat.js';
import { accessRequest } from '../fixtures/access-request.js';

export interface SeenMessage {
  /** 'direct' for a DM, else the channel id. */
  readonly where: string;
  /** Shown to this person only (a DM, or an answer only they see in a channel). */
  readonly onlyForThem: boolean;
  readonly text: string;
}

/** What a Notifier implementation brings to the contract. */
export interface NotifierContractSubject {
  readonly notifier: Notifier;
  /** The requester of the contract's requests. */
  readonly requester: string;
  /** Another person, who acts in channels. */
  readonly approver: string;
  /** A channel the approver and the app are both in. */
  readonly sharedChannel: string;
  /** A channel the approver is not in. */
  readonly foreignChannel: string;
  /** What `userId` has been shown so far, oldest first. */
  seenBy(userId: string): Promise<readonly SeenMessage[]>;
  /** The approvers' channel as it is now: each message once, with how often it changed. */
  approversMessages(): Promise<readonly { ts: string; text: string; edits: number }[]>;
  /** The next call fails: rate limited, the platform down, a revoked token, the channel gone. */
  failNext(kind: 'rate_limited' | 'unavailable' | 'bad_token' | 'channel_gone'): void;
}

function request(subject: NotifierContractSubject, overrides: Partial<AccessRequest> = {}): AccessRequest {
  const base = accessRequest();
  return { ...base, requester: { ...base.requester, slackUserId: subject.requester }, ...overrides };
}

const at = '2026-11-21T10:05:00.000Z';
const WRAP_TOKEN = 'hvs.CAESIwrapTokenForTheContract0000';
const GRANT = {
  leaseId: 'database/creds/jit-orders-read/abc',
  username: 'alice-Xy3kQ9bT',
  tokenAccessor: 'accessor0000',
  mintedAt: at,
  expiresAt: '2026-11-21T11:05:00.000Z',
  origin: 'slack:decide:0001',
};
const EXTENSION: Extension = {
  number: 1,
  commandId: 'slack:extend:0001',
  status: 'pending',
  minutes: 30,
  reason: 'the migration runs long',
  askedAt: at,
  fromExpiresAt: GRANT.expiresAt,
  toExpiresAt: '2026-11-21T11:35:00.000Z',
  approvals: [],
};
/** The grant after bob approved EXTENSION: it ends at the extension's end. */
const extended = (s: NotifierContractSubject) =>
  request(s, {
    state: 'GRANTED',
    grant: { ...GRANT, expiresAt: EXTENSION.toExpiresAt },
    extensions: [
      {
        ...EXTENSION,
        status: 'approved',
        decision: { account: 'bob', actorId: 'U0BOB', channel: 'slack', at },
      },
    ],
  });
const NOTICES: Record<NoticeKind, (s: NotifierContractSubject) => Notice> = {
  'request.pending': (s) => ({ kind: 'request.pending', request: request(s) }),
  'request.rejected': (s) => ({
    kind: 'request.rejected',
    request: request(s, { state: 'REJECTED' }),
    reason: { kind: 'disabled' },
  }),
  'request.already_open': (s) => ({
    kind: 'request.already_open',
    to: { userId: s.requester },
    openRequestId: 'REQ-0K2M9Q7X',
    database: 'orders',
    level: 'read',
  }),
  'request.duplicate': (s) => ({
    kind: 'request.duplicate',
    to: { userId: s.requester },
    requestId: 'REQ-1ZZZZZZZ',
    originalRequestId: 'REQ-0K2M9Q7X',
  }),
  'request.delayed': (s) => ({
    kind: 'request.delayed',
    to: { userId: s.requester },
    requestId: 'REQ-0K2M9Q7X',
  }),
  'request.decided': (s) => ({
    kind: 'request.decided',
    request: request(s, {
      state: 'DENIED',
      decision: { outcome: 'denied', channel: 'jira', actorId: '712020:bob', account: 'bob', at },
    }),
  }),
  'decision.refused': (s) => ({
    kind: 'decision.refused',
    to: { userId: s.requester },
    requestId: 'REQ-0K2M9Q7X',
    action: 'cancel',
    refusal: { kind: 'not_pending', state: 'APPROVED' },
  }),
  'approval.recorded': (s) => ({
    kind: 'approval.recorded',
    to: { userId: s.requester },
    request: request(s),
    remaining: 1,
  }),
  'grant.ready': (s) => ({
    kind: 'grant.ready',
    request: request(s, { state: 'APPROVED', grant: GRANT }),
    wrappedToken: WRAP_TOKEN,
    wrapExpiresAt: '2026-11-21T10:10:00.000Z',
    fresh: false,
  }),
  'grant.ended': (s) => ({
    kind: 'grant.ended',
    request: request(s, { state: 'EXPIRED', grant: GRANT }),
  }),
  'grant.failed': (s) => ({
    kind: 'grant.failed',
    request: request(s, { state: 'FAILED', failure: { reason: 'requester_disabled', at } }),
  }),
  'extension.asked': (s) => ({
    kind: 'extension.asked',
    request: request(s, { state: 'GRANTED', grant: GRANT, extensions: [EXTENSION] }),
  }),
  'extension.decided': (s) => ({
    kind: 'extension.decided',
    request: extended(s),
  }),
};

export function notifierContract(
  name: string,
  setup: () => Promise<NotifierContractSubject> | NotifierContractSubject,
): void {
  describe(`Notifier contract: ${name}`, () => {
    it.each(Object.keys(NOTICES) as NoticeKind[])(
      'tells %s to its recipient alone, once, naming the request',
      async (kind) => {
        const subject = await setup();
        await subject.notifier.notify(NOTICES[kind](subject));
        const seen = await subject.seenBy(subject.requester);
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ where: 'direct', onlyForThem: true });
        expect(seen[0]?.text).toMatch(/REQ-0K2M9Q7X/);
      },
    );

    it('delivers the wrapping token to the requester alone, never in the notification text', async () => {
      const subject = await setup();
      await subject.notifier.notify(NOTICES['grant.ready'](subject));
      const seen = await subject.seenBy(subject.requester);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.text).not.toContain(WRAP_TOKEN);
      expect(await subject.seenBy(subject.approver)).toEqual([]);
      expect(JSON.stringify(await subject.approversMessages())).not.toContain(WRAP_TOKEN);
    });

    it('answers someone who acted in a channel there, where only they see it', async () => {
      const subject = await setup();
      await subject.notifier.notify({
        kind: 'decision.refused',
        to: { userId: subject.approver, actedIn: subject.sharedChannel },
        requestId: 'REQ-0K2M9Q7X',
        action: 'approve',
        refusal: { kind: 'own_request' },
      });
      expect(await subject.seenBy(subject.approver)).toEqual([
        { where: subject.sharedChannel, onlyForThem: true, text: expect.stringContaining('REQ-0K2M9Q7X') },
      ]);
    });

    it('reaches someone who acted in a channel that cannot show them the answer, directly', async () => {
      const subject = await setup();
      await subject.notifier.notify({
        kind: 'approval.recorded',
        to: { userId: subject.approver, actedIn: subject.foreignChannel },
        request: request(subject),
        remaining: 1,
      });
      const seen = await subject.seenBy(subject.approver);
      expect(seen).toEqual([
        { where: 'direct', onlyForThem: true, text: expect.stringContaining('REQ-0K2M9Q7X') },
      ]);
    });

    it('announces a request to the approvers once, then keeps that one message up to date', async () => {
      const subject = await setup();
      const pending = request(subject);
      const announcement = await subject.notifier.announce(pending);
      const decided = request(subject, {
        state: 'APPROVED',
        decision: { outcome: 'approved', channel: 'slack', actorId: subject.approver, account: 'bob', at },
      });
      expect(await subject.notifier.refreshAnnouncement(decided, announcement)).toBe('updated');

      const messages = await subject.approversMessages();
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ ts: announcement.ts, edits: 1 });
      expect(messages[0]?.text).toMatch(/REQ-0K2M9Q7X/);
      expect(messages[0]?.text).toMatch(/approved/);
      expect(await subject.seenBy(subject.requester)).toEqual([]);
    });

    it('asks the approvers about an extension in a message of its own, kept up to date', async () => {
      const subject = await setup();
      const asked = request(subject, { state: 'GRANTED', grant: GRANT, extensions: [EXTENSION] });
      const announcement = await subject.notifier.announceExtension(asked);
      const approved = extended(subject);
      expect(await subject.notifier.refreshExtension(approved, 1, announcement)).toBe('updated');
      const messages = await subject.approversMessages();
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ ts: announcement.ts, edits: 1 });
      expect(messages[0]?.text).toMatch(/REQ-0K2M9Q7X/);
      expect(await subject.seenBy(subject.requester)).toEqual([]);
    });

    it('finds nothing to refresh when the approvers message is gone', async () => {
      const subject = await setup();
      const announcement = await subject.notifier.announce(request(subject));
      expect(
        await subject.notifier.refreshAnnouncement(request(subject), {
          ...announcement,
          ts: '1000000000.000001',
        }),
      ).toBe('gone');
    });

    it.each(['rate_limited', 'unavailable'] as const)(
      'fails with ChatUnavailableError (retry later) when %s',
      async (kind) => {
        const subject = await setup();
        subject.failNext(kind);
        await expect(subject.notifier.notify(NOTICES['request.pending'](subject))).rejects.toBeInstanceOf(
          ChatUnavailableError,
        );
      },
    );

    it('fails with ChatRejectedError naming the token to fix when the token is revoked', async () => {
      const subject = await setup();
      subject.failNext('bad_token');
      const error = await subject.notifier
        .notify(NOTICES['request.pending'](subject))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ChatRejectedError);
      expect((error as ChatRejectedError).setting).toMatch(/SLACK_BOT_TOKEN/);
    });

    it("fails with ChatRejectedError naming the catalog's approvers channel when it is gone", async () => {
      const subject = await setup();
      subject.failNext('channel_gone');
      const error = await subject.notifier.announce(request(subject)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ChatRejectedError);
      expect((error as ChatRejectedError).setting).toMatch(/approversChannel/);
    });
  });
}
