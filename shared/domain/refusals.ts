import { commonName } from './dn.js';
import type { GrantFailureReason } from './access-request.js';
import type { RequestState } from './lifecycle.js';

/**
 * Why a Slack account may not act although it has an e-mail: a guest (single- or multi-channel),
 * someone from another organisation in a shared (Slack Connect) channel, or an e-mail Slack has
 * not confirmed. Anyone could otherwise borrow a colleague's directory account by its address.
 */
export type NonMemberReason = 'guest' | 'other_workspace' | 'unconfirmed_email';

/** Why a decision or a cancellation was not taken, for the person who tried. */
export type DecisionRefusal =
  | { kind: 'unknown_request' }
  | { kind: 'no_identity'; channel: 'slack' | 'jira' }
  | { kind: 'not_member'; why: NonMemberReason }
  | { kind: 'no_account'; attribute: string }
  | { kind: 'ambiguous_account'; attribute: string }
  | { kind: 'disabled' }
  | { kind: 'own_request' }
  | { kind: 'not_approver'; approverGroups: readonly string[] }
  | { kind: 'unknown_level' }
  | { kind: 'not_pending'; state: RequestState }
  | { kind: 'already_approved_by_you'; remaining: number }
  | { kind: 'not_requester' }
  /** A fresh token asked for by someone other than the person the access was granted to. */
  | { kind: 'not_your_grant' }
  /** The requester's account was disabled, or left the level's groups, since the grant. */
  | { kind: 'no_longer_eligible' }
  /** Vault could not make the fresh credential just now; nothing changed. */
  | { kind: 'broker_failed' }
  /** A fresh token asked for while there is no live grant (not granted yet, or ended). */
  | { kind: 'not_granted'; state: RequestState }
  /** The level's catalog entry sets no `maxExtension`. */
  | { kind: 'extension_not_allowed' }
  /** More than the level's `maxExtension` in total; `remainingMinutes` may still be asked for. */
  | { kind: 'extension_ceiling'; remainingMinutes: number }
  /** An extension is already waiting for its approvers. */
  | { kind: 'extension_pending'; number: number }
  /** A decision on an extension that is not (or no longer) waiting. */
  | { kind: 'extension_decided'; status: 'approved' | 'denied' | 'unknown' };

/** Why a request was not accepted; nothing else about the directory is ever told. */
export type RejectionReason =
  | { kind: 'no_email' }
  | { kind: 'not_member'; why: NonMemberReason }
  | { kind: 'no_account'; attribute: string }
  | { kind: 'ambiguous_account'; attribute: string }
  | { kind: 'disabled' }
  | { kind: 'not_eligible'; requesterGroups: readonly string[]; approverGroups: readonly string[] }
  | { kind: 'unknown_level' };

/** What each state means to a person reading about their request. */
export const STATE_WORDS: Record<RequestState, string> = {
  SUBMITTED: 'submitted',
  PENDING_APPROVAL: 'waiting for approval',
  REJECTED: 'not accepted',
  APPROVED: 'approved',
  DENIED: 'denied',
  CANCELLED: 'cancelled by the requester',
  TIMED_OUT: 'timed out without a decision',
  GRANTED: 'granted',
  FAILED: 'failed',
  EXPIRED: 'expired',
  REVOKED: 'revoked',
};

/**
 * The refusal in plain words that say what to do: no markup, so the audit trail, Slack and Jira
 * can all carry it as it is.
 */
export function explainRefusal(refusal: DecisionRefusal): string {
  switch (refusal.kind) {
    case 'unknown_request':
      return 'there is no such request.';
    case 'no_identity':
      return refusal.channel === 'slack'
        ? 'your Slack profile has no e-mail address I can match to a directory account. Ask your Slack admin to add it.'
        : 'your Atlassian profile does not show your e-mail address to jit-access, so I cannot match you to a directory account. Set your e-mail visibility to "Anyone" in your Atlassian profile, or decide with the buttons in Slack.';
    case 'not_member':
      return `${NON_MEMBER_WORDS[refusal.why]}, and only full members of this workspace with a confirmed e-mail may decide on access.`;
    case 'no_account':
      return `no directory account matches your ${refusal.attribute}. Ask IT to check your account.`;
    case 'ambiguous_account':
      return `more than one directory account matches your ${refusal.attribute}, so I cannot tell which is you. Ask IT to fix the duplicate.`;
    case 'disabled':
      return 'your directory account is disabled.';
    case 'own_request':
      return 'you cannot decide on your own request; another approver has to.';
    case 'not_approver':
      return `only members of ${groupNames(refusal.approverGroups)} may decide on this access level.`;
    case 'unknown_level':
      return 'this database or level is no longer in the catalog, so nobody can approve it.';
    case 'not_pending':
      return `the request is already ${STATE_WORDS[refusal.state]}; nothing was changed.`;
    case 'already_approved_by_you':
      return `your approval is already recorded; it needs ${refusal.remaining} more from other approvers.`;
    case 'not_requester':
      return 'only the person who made the request can cancel it.';
    case 'not_your_grant':
      return 'only the person the access was granted to can get a fresh token.';
    case 'no_longer_eligible':
      return 'your directory account is no longer enabled in a group allowed this access, so no new credential was made.';
    case 'broker_failed':
      return 'Vault could not make a new credential just now; nothing changed, and your current token, if you still have it, keeps working. Try the button again in a few minutes.';
    case 'extension_not_allowed':
      return 'this access level allows no extensions; submit a new request when this one ends.';
    case 'extension_ceiling':
      return refusal.remainingMinutes > 0
        ? `this level allows ${refusal.remainingMinutes} more minutes of extension at most; ask for that much or less.`
        : 'this grant has had all the extension its level allows; submit a new request when it ends.';
    case 'extension_pending':
      return `extension ${refusal.number} is still waiting for the approvers; wait for their decision.`;
    case 'extension_decided':
      return refusal.status === 'unknown'
        ? 'there is no such extension of this request.'
        : `that extension is already ${refusal.status}; nothing was changed.`;
    case 'not_granted':
      return refusal.state === 'APPROVED'
        ? 'your credentials are still being made; the token arrives in a direct message in a moment.'
        : `the access is ${STATE_WORDS[refusal.state]}, so there is no credential to renew; submit a new request if you still need access.`;
  }
}

/** Why a grant failed, in plain words for the requester, the ticket and the audit trail. */
export function explainGrantFailure(reason: GrantFailureReason): string {
  switch (reason) {
    case 'requester_not_found':
      return "the requester's directory account no longer exists, so nothing was granted";
    case 'requester_disabled':
      return "the requester's directory account was disabled after the request was made, so nothing was granted";
    case 'requester_not_eligible':
      return 'the requester is no longer in a group allowed to request this level, so nothing was granted';
    case 'unknown_level':
      return 'the database or level is no longer in the catalog, so nothing was granted';
    case 'directory_unavailable':
      return 'the company directory could not be reached to check the requester again, after several attempts';
    case 'broker_unavailable':
      return 'Vault could not be reached to create the temporary user, after several attempts';
    case 'broker_rejected':
      return 'Vault refused to create the temporary user; an operator must fix the Vault setup (the worker log names the setting)';
  }
}

/** The rejection in plain words, for the audit trail (the Slack adapter words it for the requester). */
export function explainRejection(reason: RejectionReason): string {
  switch (reason.kind) {
    case 'no_email':
      return 'the Slack profile has no e-mail address to match to a directory account';
    case 'not_member':
      return `the Slack account may not request access: ${NON_MEMBER_WORDS[reason.why]}`;
    case 'no_account':
      return `no directory account matches the Slack profile's ${reason.attribute}`;
    case 'ambiguous_account':
      return `more than one directory account matches the Slack profile's ${reason.attribute}`;
    case 'disabled':
      return 'the directory account is disabled';
    case 'not_eligible':
      return `not a member of ${groupNames(reason.requesterGroups)}`;
    case 'unknown_level':
      return 'the database or level is no longer in the catalog';
  }
}

/** What each reason means, said to the person: "your Slack account is …". */
export const NON_MEMBER_WORDS: Record<NonMemberReason, string> = {
  guest: 'your Slack account is a guest account',
  other_workspace: 'your Slack account belongs to another organisation (a shared channel)',
  unconfirmed_email: 'your Slack account has an e-mail address Slack has not confirmed',
};

function groupNames(dns: readonly string[]): string {
  return dns.map(commonName).join(' or ');
}
