import type { AccessRequest } from '../../shared/domain/access-request.js';
import { normalizeDn } from '../../shared/domain/dn.js';
import type { Announcement, ChatIdentity, ChatPerson, Notice, Notifier } from '../../shared/ports/chat.js';
import type { NonMemberReason } from '../../shared/domain/refusals.js';
import {
  AmbiguousUserError,
  type Directory,
  DirectoryUnavailableError,
  type DirectoryUser,
  type UserLookupAttribute,
} from '../../shared/ports/directory.js';
import {
  type MoveOutcome,
  type Ticket,
  type TicketNote,
  type TicketState,
  type TicketStatusChange,
  type TicketTracker,
  TrackerRejectedError,
} from '../../shared/ports/ticket-tracker.js';

/*
 * Fakes of the worker's ports that record what the use cases asked of them, for unit tests that
 * assert on the typed notices and ticket notes rather than on any vendor's wording. Each can be
 * told to fail its next call, to drive the failure paths.
 */

type Failures<M extends string> = Partial<Record<M, unknown[]>>;

function takeFailure<M extends string>(failures: Failures<M>, method: M): void {
  const error = failures[method]?.shift();
  if (error !== undefined) throw error;
}

export class RecordingNotifier implements Notifier {
  readonly notices: Notice[] = [];
  readonly announced: AccessRequest[] = [];
  readonly refreshed: { request: AccessRequest; announcement: Announcement }[] = [];
  /** What refreshAnnouncement answers; 'gone' once the approvers' message was deleted. */
  refreshAnswer: 'updated' | 'gone' = 'updated';
  private readonly failures: Failures<'notify' | 'announce' | 'refreshAnnouncement'> = {};
  private posts = 0;

  failNext(method: 'notify' | 'announce' | 'refreshAnnouncement', error: unknown): void {
    (this.failures[method] ??= []).push(error);
  }

  async notify(notice: Notice): Promise<void> {
    takeFailure(this.failures, 'notify');
    this.notices.push(notice);
  }

  async announce(request: AccessRequest): Promise<Announcement> {
    takeFailure(this.failures, 'announce');
    this.announced.push(request);
    return { channelId: 'C0APPROVALS', ts: `1700000000.${String(++this.posts).padStart(6, '0')}` };
  }

  async refreshAnnouncement(request: AccessRequest, announcement: Announcement) {
    takeFailure(this.failures, 'refreshAnnouncement');
    this.refreshed.push({ request, announcement });
    return this.refreshAnswer;
  }

  async announceExtension(request: AccessRequest): Promise<Announcement> {
    takeFailure(this.failures, 'announce');
    this.announced.push(request);
    return { channelId: 'C0APPROVALS', ts: `1700000000.${String(++this.posts).padStart(6, '0')}` };
  }

  async refreshExtension(request: AccessRequest, _number: number, announcement: Announcement) {
    takeFailure(this.failures, 'refreshAnnouncement');
    this.refreshed.push({ request, announcement });
    return this.refreshAnswer;
  }

  kinds(): string[] {
    return this.notices.map((notice) => notice.kind);
  }
}

interface FakeTicket extends Ticket {
  requestId: string;
  status: string;
}

export class RecordingTicketTracker implements TicketTracker {
  readonly tickets: FakeTicket[] = [];
  readonly comments: { key: string; note: TicketNote }[] = [];
  readonly moves: { key: string; status: string; outcome: MoveOutcome }[] = [];
  /** Statuses no transition leads to, to drive `no_transition`. */
  readonly unreachable = new Set<string>();
  /** Jira accountId → e-mail shown to jit-access. */
  readonly emails = new Map<string, string>();
  readonly self = '712020:jit-access';
  private readonly failures: Failures<'create' | 'comment' | 'moveTo' | 'accountEmail'> = {};

  failNext(method: 'create' | 'comment' | 'moveTo' | 'accountEmail', error: unknown): void {
    (this.failures[method] ??= []).push(error);
  }

  async findByRequestId(requestId: string): Promise<Ticket | undefined> {
    const found = this.tickets.find((ticket) => ticket.requestId === requestId);
    return found && { id: found.id, key: found.key, url: found.url };
  }

  async create(request: AccessRequest): Promise<Ticket> {
    takeFailure(this.failures, 'create');
    const n = this.tickets.length + 1;
    const ticket = {
      id: String(10_000 + n),
      key: `DBA-${n}`,
      url: `https://example.atlassian.net/browse/DBA-${n}`,
    };
    this.tickets.push({ ...ticket, requestId: request.requestId, status: 'To Do' });
    return ticket;
  }

  async keysInStatus(status: string, limit: number): Promise<readonly string[]> {
    return this.tickets
      .filter((ticket) => ticket.status === status)
      .map((ticket) => ticket.key)
      .slice(0, limit);
  }

  /** Who moved each ticket into a status, as a test says (the fake keeps no changelog of its own). */
  readonly movers = new Map<string, TicketStatusChange>();

  async lastMoveTo(issueIdOrKey: string, status: string): Promise<TicketStatusChange | undefined> {
    const found = this.find(issueIdOrKey);
    const move = found && this.movers.get(found.key);
    return move?.toStatus === status ? move : undefined;
  }

  async read(issueIdOrKey: string): Promise<TicketState | undefined> {
    const found = this.find(issueIdOrKey);
    return found && { ...found, projectKey: 'DBA' };
  }

  async moveTo(issueIdOrKey: string, status: string): Promise<MoveOutcome> {
    takeFailure(this.failures, 'moveTo');
    const found = this.find(issueIdOrKey);
    if (!found) throw new TrackerRejectedError(`${issueIdOrKey} does not exist`, 404);
    const outcome: MoveOutcome =
      found.status === status ? 'already_there' : this.unreachable.has(status) ? 'no_transition' : 'moved';
    if (outcome === 'moved') found.status = status;
    this.moves.push({ key: found.key, status, outcome });
    return outcome;
  }

  async comment(issueIdOrKey: string, note: TicketNote): Promise<void> {
    takeFailure(this.failures, 'comment');
    this.comments.push({ key: issueIdOrKey, note });
  }

  async accountEmail(accountId: string): Promise<string | undefined> {
    takeFailure(this.failures, 'accountEmail');
    return this.emails.get(accountId);
  }

  async selfAccountId(): Promise<string> {
    return this.self;
  }

  noteKinds(): string[] {
    return this.comments.map((comment) => comment.note.kind);
  }

  private find(issueIdOrKey: string): FakeTicket | undefined {
    return this.tickets.find((ticket) => ticket.key === issueIdOrKey || ticket.id === issueIdOrKey);
  }
}

/** A directory of people and the groups they are in (nesting already resolved). */
export class FakeDirectory implements Directory {
  private readonly people: { user: DirectoryUser; groups: string[] }[] = [];
  /** While set, every call fails as an unreachable directory does. */
  down = false;

  add(
    user: Partial<DirectoryUser> & { sAMAccountName: string },
    groups: readonly string[] = [],
  ): DirectoryUser {
    const full: DirectoryUser = {
      dn: `CN=${user.sAMAccountName},OU=People,DC=example,DC=com`,
      mail: `${user.sAMAccountName}@example.com`,
      enabled: true,
      ...user,
    };
    this.people.push({ user: full, groups: groups.map(normalizeDn) });
    return full;
  }

  async findUser(attribute: UserLookupAttribute, value: string): Promise<DirectoryUser | undefined> {
    if (this.down) throw new DirectoryUnavailableError('the directory is down');
    const matches = this.people.filter((p) => p.user[attribute] === value);
    if (matches.length > 1) throw new AmbiguousUserError(attribute, matches.length);
    return matches[0]?.user;
  }

  async firstGroupOf(userDn: string, groupDns: readonly string[]): Promise<string | undefined> {
    if (this.down) throw new DirectoryUnavailableError('the directory is down');
    const person = this.people.find((p) => normalizeDn(p.user.dn) === normalizeDn(userDn));
    return groupDns.find((dn) => person?.groups.includes(normalizeDn(dn)));
  }
}

/** Slack user id → the e-mail on their profile; `nonMembers` are guests, outsiders and the unconfirmed. */
export class FakeChatIdentity implements ChatIdentity {
  readonly emails = new Map<string, string>();
  readonly nonMembers = new Map<string, NonMemberReason>();

  async whoIs(userId: string): Promise<ChatPerson> {
    const why = this.nonMembers.get(userId);
    if (why) return { kind: 'not_member', why };
    const email = this.emails.get(userId);
    return email ? { kind: 'member', email } : { kind: 'no_email' };
  }
}
