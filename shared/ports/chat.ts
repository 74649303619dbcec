import type { AccessRequest } from '../domain/access-request.js';
import type { DecisionRefusal, NonMemberReason, RejectionReason } from '../domain/refusals.js';

/** Who a chat user is, as far as the chat platform knows. */
export interface ChatIdentity {
  /**
   * Who a chat user is, as far as jit-access may trust it: a full member of the configured
   * workspace with a confirmed e-mail, or why not. Only members may request or decide.
   */
  whoIs(userId: string): Promise<ChatPerson>;
}

export type ChatPerson =
  | { readonly kind: 'member'; readonly email: string }
  | { readonly kind: 'not_member'; readonly why: NonMemberReason }
  /** Unknown, deactivated, a bot, or a member whose profile has no e-mail. */
  | { readonly kind: 'no_email' };

/**
 * A person a notice is for. `actedIn` is the channel where they just acted (clicked a button),
 * when they did: the adapter may answer them there rather than in a direct message.
 */
export interface Recipient {
  readonly userId: string;
  readonly actedIn?: string;
}

/**
 * What happened, to which request, for whom: the use cases' whole vocabulary towards people.
 * Notices that carry a request are for its requester; the others name their recipient.
 */
export type Notice =
  /** The ticket is open and approvers were asked. */
  | { readonly kind: 'request.pending'; readonly request: AccessRequest }
  /** The request was not accepted (policy); the reason says what the requester can do. */
  | { readonly kind: 'request.rejected'; readonly request: AccessRequest; readonly reason: RejectionReason }
  /** A second request for the same database and level while one is still open. */
  | {
      readonly kind: 'request.already_open';
      readonly to: Recipient;
      readonly openRequestId: string;
      readonly database: string;
      readonly level: string;
    }
  /** The same submission arrived twice under two ids; the first one is kept. */
  | {
      readonly kind: 'request.duplicate';
      readonly to: Recipient;
      readonly requestId: string;
      readonly originalRequestId: string;
    }
  /** The directory cannot be reached; the request is kept and retried. */
  | { readonly kind: 'request.delayed'; readonly to: Recipient; readonly requestId: string }
  /** The request was approved, denied or cancelled. */
  | { readonly kind: 'request.decided'; readonly request: AccessRequest }
  /** A decision or cancellation someone tried was not taken. */
  | {
      readonly kind: 'decision.refused';
      readonly to: Recipient;
      readonly requestId: string;
      readonly action: 'approve' | 'deny' | 'cancel' | 'reissue' | 'revoke' | 'extend';
      readonly refusal: DecisionRefusal;
    }
  /**
   * The temporary user exists: the requester gets the single-use wrapping token (never the
   * password), when it stops working, and how to open it. `fresh` when it replaces a credential.
   */
  | {
      readonly kind: 'grant.ready';
      readonly request: AccessRequest;
      readonly wrappedToken: string;
      readonly wrapExpiresAt: string;
      readonly fresh: boolean;
    }
  /** The grant ended (expired, or revoked early by `request.revocation.by`); the user is gone. */
  | { readonly kind: 'grant.ended'; readonly request: AccessRequest }
  /** Nothing was granted after all (the re-check at grant time, or Vault); the request is FAILED. */
  | { readonly kind: 'grant.failed'; readonly request: AccessRequest }
  /** The requester's extension (the last of `request.extensions`) is before the approvers. */
  | { readonly kind: 'extension.asked'; readonly request: AccessRequest }
  /** The requester's extension was approved (the grant now ends at `request.grant.expiresAt`) or denied. */
  | { readonly kind: 'extension.decided'; readonly request: AccessRequest }
  /** One approval of several counted; `remaining` more are needed. */
  | {
      readonly kind: 'approval.recorded';
      readonly to: Recipient;
      readonly request: AccessRequest;
      readonly remaining: number;
    };

export type NoticeKind = Notice['kind'];

/** Where the approvers' message for a request went, so it can be brought up to date in place. */
export interface Announcement {
  readonly channelId: string;
  readonly ts: string;
}

/**
 * Tells people what happened. Use cases say what and for whom; the adapter decides how it looks,
 * how it travels (a DM, or an answer only the person sees where they acted) and where the
 * approvers are.
 */
export interface Notifier {
  notify(notice: Notice): Promise<void>;
  /** Puts a request before its approvers. */
  announce(request: AccessRequest): Promise<Announcement>;
  /**
   * Shows the request as it is now in its approvers' message (progress, outcome, no buttons once
   * settled). 'gone' when the message no longer exists: nothing is left to update, not an error.
   */
  refreshAnnouncement(request: AccessRequest, announcement: Announcement): Promise<'updated' | 'gone'>;
  /** Puts the request's last extension before the approvers, with its own buttons. */
  announceExtension(request: AccessRequest): Promise<Announcement>;
  /** Shows extension `number` as it is now in its approvers' message. */
  refreshExtension(
    request: AccessRequest,
    number: number,
    announcement: Announcement,
  ): Promise<'updated' | 'gone'>;
}

/** Every failure of the chat platform. */
export class ChatError extends Error {
  constructor(
    message: string,
    /** The platform's error code (`ratelimited`, `channel_not_found`, a transport code). */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Slack could not be reached or rate limited us: transient, retry the command. */
export class ChatUnavailableError extends ChatError {}

/**
 * Slack refused for good (a missing channel or scope, a revoked token, blocks it cannot show):
 * retrying cannot fix it; an operator must change `setting`.
 */
export class ChatRejectedError extends ChatError {
  constructor(
    message: string,
    code: string,
    /** What to fix, named so an operator can find it. */
    readonly setting: string,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}
