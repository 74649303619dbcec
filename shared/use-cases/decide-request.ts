import type { Catalog } from '../config/catalog-schema.js';
import type { AccessRequest, Approval, AuditActor } from '../domain/access-request.js';
import { normalizeDn } from '../domain/dn.js';
import { findLevel } from '../domain/eligibility.js';
import { type DecisionRefusal, explainRefusal } from '../domain/refusals.js';
import type { RequestDecided } from '../messages/commands.js';
import type { ChatIdentity, Notifier, Recipient } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import {
  AmbiguousUserError,
  type Directory,
  type DirectoryUser,
  type UserLookupAttribute,
} from '../ports/directory.js';
import { type RequestStore, StaleStateError } from '../ports/request-store.js';
import type { MoveOutcome, TicketTracker } from '../ports/ticket-tracker.js';
import { completeDecisionEffects, recordRefusal, ticketMayRefuse } from './decision-effects.js';
import { openSlotKeyOf } from './submit-request.js';

export interface DecideDeps {
  readonly catalog: Catalog;
  readonly directory: Directory;
  readonly identity: ChatIdentity;
  readonly notifier: Notifier;
  readonly tickets: TicketTracker;
  readonly store: RequestStore;
  readonly clock: Clock;
  readonly lookupAttribute: UserLookupAttribute;
}

export type DecideOutcome =
  | { kind: 'approved'; request: AccessRequest }
  | { kind: 'denied'; request: AccessRequest }
  | { kind: 'approval_recorded'; request: AccessRequest; remaining: number }
  | { kind: 'refused'; refusal: DecisionRefusal['kind'] }
  | { kind: 'ignored'; why: 'own_echo' | 'repeated_refusal' };

/** Concurrent approvals retry on a fresh read; more rounds than this means something is wrong. */
const MAX_ROUNDS = 5;

/**
 * `request.decided` → a verified decision, from Slack or Jira alike. Who is checked before what:
 * the person is resolved to an enabled directory account in one of the level's approver groups,
 * is not the requester, and only then is the request's state consulted, so a refusal tells an
 * outsider nothing about the request. Approvals are collected per directory account until the
 * level's number is reached; one denial ends the request. Every change is a conditional write,
 * and a repeat of a decision already taken only finishes its notifications.
 */
export async function decideRequest(deps: DecideDeps, command: RequestDecided): Promise<DecideOutcome> {
  // jit-access's own ticket moves come back as webhooks; they are not anybody's decision.
  if (command.actor.kind === 'jira' && command.actor.accountId === (await deps.tickets.selfAccountId())) {
    return { kind: 'ignored', why: 'own_echo' };
  }

  let request = await deps.store.get(command.requestId);
  if (!request) return refuse(deps, command, undefined, { kind: 'unknown_request' });

  const verified = await verifyApprover(deps, command.actor, request);
  if ('kind' in verified) return refuse(deps, command, request, verified);
  const { user, via } = verified;

  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (request.state !== 'PENDING_APPROVAL') {
      if (isRepeat(request, command, user)) {
        // Past APPROVED the decision's effects are long done; what follows is the grant's.
        if (request.state === 'APPROVED' || request.state === 'DENIED')
          request = await completeDecisionEffects(deps, request);
        return request.state === 'DENIED' ? { kind: 'denied', request } : { kind: 'approved', request };
      }
      return refuse(deps, command, request, { kind: 'not_pending', state: request.state });
    }
    try {
      return command.decision === 'deny'
        ? await deny(deps, command, request, user)
        : await approve(deps, command, request, user, via);
    } catch (error) {
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      request = error.current;
    }
  }
  throw new StaleStateError(command.requestId, request);
}

export interface VerifiedApprover {
  readonly user: DirectoryUser;
  readonly via: string;
}

/**
 * Whether the person who acted (in Slack or Jira) is an approver of the request's level: an enabled
 * directory account, found by their verified e-mail, in one of the level's approver groups, and
 * not the requester. Refusals say why, and nothing about the request.
 */
export async function verifyApprover(
  deps: Pick<DecideDeps, 'catalog' | 'directory' | 'identity' | 'tickets' | 'lookupAttribute'>,
  actor: RequestDecided['actor'],
  request: AccessRequest,
): Promise<VerifiedApprover | DecisionRefusal> {
  // Checked before anything else: whatever groups the requester is in, they never decide.
  if (actor.kind === 'slack' && actor.userId === request.requester.slackUserId)
    return { kind: 'own_request' };

  let email: string | undefined;
  if (actor.kind === 'slack') {
    const person = await deps.identity.whoIs(actor.userId);
    if (person.kind === 'not_member') return { kind: 'not_member', why: person.why };
    email = person.kind === 'member' ? person.email : undefined;
  } else {
    email = await deps.tickets.accountEmail(actor.accountId);
  }
  if (!email) return { kind: 'no_identity', channel: actor.kind };
  let user: DirectoryUser | undefined;
  try {
    user = await deps.directory.findUser(deps.lookupAttribute, email);
  } catch (error) {
    if (error instanceof AmbiguousUserError)
      return { kind: 'ambiguous_account', attribute: deps.lookupAttribute };
    throw error;
  }
  if (!user) return { kind: 'no_account', attribute: deps.lookupAttribute };
  if (isRequester(request, user, email)) return { kind: 'own_request' };
  if (!user.enabled) return { kind: 'disabled' };

  const level = findLevel(deps.catalog, request);
  if (!level) return { kind: 'unknown_level' };
  const via = await deps.directory.firstGroupOf(user.dn, level.approverGroups);
  if (!via) return { kind: 'not_approver', approverGroups: level.approverGroups };
  return { user, via };
}

/** The same person as the requester, by directory entry or by e-mail (Slack ids were checked before). */
function isRequester(request: AccessRequest, user: DirectoryUser, email: string): boolean {
  const requester = request.requester;
  if (requester.directoryDn && normalizeDn(requester.directoryDn) === normalizeDn(user.dn)) return true;
  if (
    requester.directoryAccount &&
    requester.directoryAccount.toLowerCase() === user.sAMAccountName.toLowerCase()
  )
    return true;
  return requester.email !== undefined && requester.email.toLowerCase() === email.toLowerCase();
}

/** This person already took this decision: a redelivery, a second click, or the other channel. */
function isRepeat(request: AccessRequest, command: RequestDecided, user: DirectoryUser): boolean {
  if (command.decision === 'approve') {
    // APPROVED, or anything the approval led to (granted, failed, expired, revoked).
    return (
      request.decision?.outcome === 'approved' &&
      (request.approvals ?? []).some((a) => a.account === user.sAMAccountName)
    );
  }
  return request.state === 'DENIED' && request.decision?.account === user.sAMAccountName;
}

function actorOf(command: RequestDecided, user?: DirectoryUser): AuditActor {
  const id = command.actor.kind === 'slack' ? command.actor.userId : command.actor.accountId;
  return { kind: command.actor.kind, id, ...(user ? { account: user.sAMAccountName } : {}) };
}

async function deny(
  deps: DecideDeps,
  command: RequestDecided,
  request: AccessRequest,
  user: DirectoryUser,
): Promise<DecideOutcome> {
  const now = deps.clock.now().toISOString();
  const reason = command.reason?.trim() || undefined;
  let denied = await deps.store.transition(request.requestId, {
    event: 'deny',
    by: 'approver',
    changes: {
      decision: {
        outcome: 'denied',
        channel: command.source,
        actorId: actorOf(command).id,
        account: user.sAMAccountName,
        ...(reason ? { reason } : {}),
        at: now,
      },
      effects: {},
    },
    audit: {
      at: now,
      action: 'deny',
      actor: actorOf(command, user),
      channel: command.source,
      ...(reason ? { reason } : {}),
    },
  });
  await deps.store.releaseOpenSlot(openSlotKeyOf(denied), denied.requestId);
  denied = await completeDecisionEffects(deps, denied);
  return { kind: 'denied', request: denied };
}

async function approve(
  deps: DecideDeps,
  command: RequestDecided,
  request: AccessRequest,
  user: DirectoryUser,
  via: string,
): Promise<DecideOutcome> {
  const approvals = request.approvals ?? [];
  const required = findLevel(deps.catalog, request)?.approvalsRequired ?? 1;
  if (approvals.some((approval) => approval.account === user.sAMAccountName)) {
    return refuse(deps, command, request, {
      kind: 'already_approved_by_you',
      remaining: required - approvals.length,
    });
  }
  const now = deps.clock.now().toISOString();
  const approval: Approval = {
    account: user.sAMAccountName,
    dn: user.dn,
    channel: command.source,
    actorId: actorOf(command).id,
    via,
    at: now,
  };
  const audit = {
    at: now,
    actor: actorOf(command, user),
    channel: command.source,
    reason: `member of ${via}`,
  };

  if (approvals.length + 1 >= required) {
    let approved = await deps.store.transition(request.requestId, {
      event: 'approve',
      by: 'approver',
      // Computed from this version's approvals: a concurrent change makes it recompute.
      expectedVersion: request.version,
      changes: {
        approvals: [...approvals, approval],
        decision: {
          outcome: 'approved',
          channel: command.source,
          actorId: approval.actorId,
          account: approval.account,
          at: now,
        },
        effects: {},
      },
      audit: { ...audit, action: 'approve' },
    });
    approved = await completeDecisionEffects(deps, approved);
    return { kind: 'approved', request: approved };
  }

  const recorded = await deps.store.update(
    request.requestId,
    request.version,
    { approvals: [...approvals, approval] },
    {
      ...audit,
      action: 'approval.recorded',
      reason: `${audit.reason}; ${approvals.length + 1} of ${required}`,
    },
  );
  const remaining = required - approvals.length - 1;
  await announcePartialApproval(deps, command, recorded, required, remaining);
  return { kind: 'approval_recorded', request: recorded, remaining };
}

/**
 * One approval of several: the approvers' message shows who approved so far, the ticket says so,
 * and a Jira move to the approved status is undone, because the request is not approved yet.
 */
async function announcePartialApproval(
  deps: DecideDeps,
  command: RequestDecided,
  request: AccessRequest,
  required: number,
  remaining: number,
): Promise<void> {
  const message = request.slack.approversMessage;
  if (message) {
    await deps.notifier.refreshAnnouncement(request, message);
  }
  const ticketKey = command.jira?.issueKey ?? request.ticket?.key;
  if (ticketKey) {
    await ticketMayRefuse(deps, request, async () => {
      let movedBack: { status: string; outcome: MoveOutcome } | undefined;
      if (command.jira) {
        const status = command.jira.fromStatus;
        movedBack = { status, outcome: await deps.tickets.moveTo(ticketKey, status) };
      }
      await deps.tickets.comment(ticketKey, {
        kind: 'approval.recorded',
        request,
        required,
        ...(movedBack ? { movedBack } : {}),
      });
    });
  }
  const to = slackRecipient(command);
  if (to) await deps.notifier.notify({ kind: 'approval.recorded', to, request, remaining });
}

/** Records and tells a refusal, once per command (see recordRefusal). */
async function refuse(
  deps: DecideDeps,
  command: RequestDecided,
  request: AccessRequest | undefined,
  refusal: DecisionRefusal,
): Promise<DecideOutcome> {
  const reason = explainRefusal(refusal);
  const first = await recordRefusal(deps, command, request, {
    action: `${command.decision}.refused`,
    actor: actorOf(command),
    channel: command.source,
    reason: `${refusal.kind}: ${reason}`,
  });
  if (!first) return { kind: 'ignored', why: 'repeated_refusal' };
  const to = slackRecipient(command);
  if (to) {
    await deps.notifier.notify({
      kind: 'decision.refused',
      to,
      requestId: command.requestId,
      action: command.decision,
      refusal,
    });
  } else if (command.actor.kind === 'jira') {
    const { accountId } = command.actor;
    await ticketMayRefuse(deps, request, () => answerInJira(deps, command, accountId, request, refusal));
  }
  return { kind: 'refused', refusal: refusal.kind };
}

/** The Slack user who acted, and the channel of the message they acted on. */
function slackRecipient(command: RequestDecided): Recipient | undefined {
  if (command.actor.kind !== 'slack') return undefined;
  const actedIn = command.slackMessage?.channelId;
  return { userId: command.actor.userId, ...(actedIn ? { actedIn } : {}) };
}

/**
 * A refused Jira move is answered on the ticket, and the ticket is put back where the request
 * really is: the status it came from while the request is pending, else the status of its outcome.
 */
async function answerInJira(
  deps: DecideDeps,
  command: RequestDecided,
  accountId: string,
  request: AccessRequest | undefined,
  refusal: DecisionRefusal,
): Promise<void> {
  const ticketKey = command.jira?.issueKey ?? request?.ticket?.key;
  if (!ticketKey) return;
  const status =
    request && command.jira ? statusOf(deps.catalog, request, command.jira.fromStatus) : undefined;
  const movedBack =
    status && status !== command.jira?.toStatus
      ? { status, outcome: await deps.tickets.moveTo(ticketKey, status) }
      : undefined;
  await deps.tickets.comment(ticketKey, {
    kind: 'refusal',
    accountId,
    refusal,
    ...(movedBack ? { movedBack } : {}),
  });
}

/** The ticket status that matches the request's state. */
function statusOf(catalog: Catalog, request: AccessRequest, pendingStatus: string): string {
  const statuses = catalog.global.jira.statuses;
  switch (request.state) {
    case 'SUBMITTED':
    case 'PENDING_APPROVAL':
      return pendingStatus;
    case 'APPROVED':
      return statuses.approved;
    case 'DENIED':
      return statuses.denied;
    case 'GRANTED':
      return statuses.granted;
    default:
      return statuses.closed;
  }
}
