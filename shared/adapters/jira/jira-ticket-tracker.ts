import { HttpException, Version3Client, type Version3Models } from 'jira.js';
import type { Catalog } from '../../config/catalog-schema.js';
import type { AccessRequest } from '../../domain/access-request.js';
import { isRequestId } from '../../domain/request-id.js';
import { InvalidRequestIdError } from '../../domain/errors.js';
import {
  type MoveOutcome,
  REQUEST_ID_PROPERTY,
  type Ticket,
  type TicketNote,
  type TicketState,
  type TicketStatusChange,
  type TicketTracker,
  TrackerRejectedError,
  TrackerUnavailableError,
} from '../../ports/ticket-tracker.js';
import type { AdfDocument, AdfNode, TicketDraft } from './adf.js';
import { noteComment, ticketDraft } from './ticket-content.js';

/**
 * Where the request id sits inside the property's JSON value: `{ "requestId": "REQ-…" }`.
 *
 * The property is how jit-access knows a ticket is the request's, but not how it finds it: Jira
 * Cloud indexes an entity property for JQL only when an app declares it (a Forge
 * `jira:entityProperty` module), and a plain site refuses `issue.property[…]` in a search, so no
 * ticket could be found there. Tickets are found by a label carrying the request id instead
 * (labels are searchable on every site), and each hit is confirmed by reading the property back:
 * anyone can add a label in Jira's UI, while the property is set through the REST API.
 */
export const REQUEST_ID_PROPERTY_PATH = 'requestId';

/** The label on the request's ticket that search finds it by: `jit-access-REQ-…`. */
export function requestIdLabel(requestId: string): string {
  return `jit-access-${requestId}`;
}

export interface JiraTicketTrackerOptions {
  /** What tickets and comments say (project, issue type, statuses, the levels' grants). */
  readonly catalog: Catalog;
  /** The site, e.g. https://acme.atlassian.net (no trailing path). */
  readonly host: string;
  /** The account the API token belongs to. */
  readonly email: string;
  readonly apiToken: string;
  /**
   * Projects a ticket may live in. Pass them: searches are then limited to them, so an issue
   * someone planted elsewhere with our property (anyone who can edit an issue can set one, the
   * requester included) is never taken for the request's ticket; drafts for any other project
   * are refused before a call is made. Without them the search spans every project the account
   * can browse.
   */
  readonly projectKeys?: readonly string[];
  /**
   * Retries after the first attempt, for 429, 5xx and network failures (for comments only where
   * Jira cannot have acted: see `comment`). Default 3.
   */
  readonly maxRetries?: number;
  /** First backoff step; doubles per retry, with jitter. Default 500 ms. */
  readonly baseRetryMs?: number;
  /** Longest single backoff. Default 8 s. */
  readonly maxBackoffMs?: number;
  /**
   * Longest Retry-After we honour. Jira asking for more means we should give up now and let the
   * command be retried later, not hold the worker. Default 10 s.
   */
  readonly maxRetryAfterMs?: number;
  /** Per request. Default 10 s. */
  readonly timeoutMs?: number;
  /** Injectable so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); injectable so backoff is deterministic in tests. */
  readonly random?: () => number;
}

/** How an attempt failed, stripped of everything jira.js and axios carry (headers, bodies, tokens). */
type Failure =
  | { kind: 'rejected'; status: number; detail: string }
  | { kind: 'retryable'; status?: number; detail: string; retryAfterMs?: number; ambiguous: boolean };

/** What we read of a /search/jql page; jira.js 5.4's model lacks `isLast`, which Jira sends. */
/** A page of an issue's changelog, oldest first, as far as lastMoveTo reads it. */
interface ChangelogPage {
  values?: {
    id?: string;
    author?: { accountId?: unknown };
    items?: { field?: string; fieldId?: string; fromString?: string | null; toString?: string | null }[];
  }[];
  isLast?: boolean;
}

interface SearchPage {
  issues?: { id?: string; key?: string; properties?: Record<string, unknown> }[];
  nextPageToken?: string | null;
  isLast?: boolean;
}

/** Found with the search, or created. */
interface SearchHit {
  id: string;
  key: string;
}

/** What we read of GET /issue/{id}?fields=status,project&properties=…; checked, not trusted. */
interface IssueRead {
  id?: unknown;
  key?: unknown;
  fields?: { status?: { name?: unknown } | null; project?: { key?: unknown } | null } | null;
  properties?: Record<string, unknown> | null;
}

/** What we read of GET /issue/{id}/transitions. */
interface TransitionsRead {
  transitions?: { id?: unknown; isAvailable?: unknown; to?: { name?: unknown } | null }[] | null;
}

/** What we read of GET /user and GET /myself. */
interface UserRead {
  accountId?: unknown;
  accountType?: unknown;
  active?: unknown;
  emailAddress?: unknown;
}

interface RetryPolicy {
  /**
   * Retry failures after which Jira may have done the work (5xx, a dropped connection or a
   * timeout). Default true: right for reads and for writes that are idempotent or checked.
   */
  readonly ambiguous?: boolean;
}

const PROJECT_KEY = /^[A-Z][A-Z0-9_]{0,254}$/;
/** A numeric issue id, or a key as Jira writes it (DBA-42); nothing else reaches a URL path. */
const ISSUE_ID = /^\d{1,18}$/;
const ISSUE_KEY = /^[A-Z][A-Z0-9_]{1,254}-\d{1,18}$/;
/** Atlassian account ids: `557058:f58131cb-…`, `712020:…`, or 24 hex characters for older ones. */
const ACCOUNT_ID = /^[A-Za-z0-9:_-]{1,128}$/;
const MAX_SEARCH_PAGES = 5;
const SEARCH_PAGE_SIZE = 50;

/**
 * Jira Cloud behind the TicketTracker port, through jira.js. Tickets are tied to requests by the
 * `jitAccessRequestId` issue property, set in the create call itself (so no ticket ever exists
 * without it) and then once more with a PUT; the property is what `findByRequestId` searches.
 *
 * Errors carry the status and Jira's errorMessages/errors, never the underlying client error,
 * whose request config holds the Authorization header and the request body.
 */
export class JiraTicketTracker implements TicketTracker {
  private readonly client: Version3Client;
  private readonly host: string;
  private readonly projectKeys: readonly string[] | undefined;
  private readonly maxRetries: number;
  private readonly baseRetryMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** The /myself lookup, in flight or done; dropped when it fails so the next call asks again. */
  private selfAccount: Promise<string> | undefined;
  private readonly catalog: Catalog;

  constructor(options: JiraTicketTrackerOptions) {
    this.catalog = options.catalog;
    this.host = options.host.replace(/\/+$/, '');
    if (options.projectKeys) {
      if (options.projectKeys.length === 0)
        throw new TypeError('projectKeys, when given, must name a project');
      for (const key of options.projectKeys) {
        if (!PROJECT_KEY.test(key)) throw new TypeError(`"${key}" is not a Jira project key`);
      }
      this.projectKeys = [...options.projectKeys];
    }
    this.maxRetries = options.maxRetries ?? 3;
    this.baseRetryMs = options.baseRetryMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 8_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.client = new Version3Client({
      host: this.host,
      authentication: { basic: { email: options.email, apiToken: options.apiToken } },
      baseRequestConfig: { timeout: options.timeoutMs ?? 10_000 },
    });
  }

  /**
   * The ticket labelled with `requestId` whose property holds it too. Should more than one exist (two workers raced,
   * or a create was retried while search lagged), the oldest, lowest id, is the ticket: it is the
   * one people saw first, and every caller picks the same one. The others are left for a person.
   *
   * Search is eventually consistent: a ticket created moments ago may not be found yet.
   */
  async findByRequestId(requestId: string): Promise<Ticket | undefined> {
    assertRequestId(requestId);
    const hit = await this.retrying('search for the ticket', () => this.searchOnce(requestId));
    return hit && this.ticket(hit);
  }

  create(request: AccessRequest): Promise<Ticket> {
    return this.createTicket(ticketDraft(this.catalog, request));
  }

  comment(issueIdOrKey: string, note: TicketNote): Promise<void> {
    return this.addComment(issueIdOrKey, noteComment(this.catalog, note));
  }

  /** Creates the ticket as drafted, and sets its request id property. */
  async createTicket(draft: TicketDraft): Promise<Ticket> {
    assertRequestId(draft.requestId);
    if (this.projectKeys && !this.projectKeys.includes(draft.projectKey)) {
      throw new TypeError(
        `project ${draft.projectKey} is not one this tracker searches (${this.projectKeys.join(', ')}); its ticket could never be found again`,
      );
    }
    const propertyValue = { [REQUEST_ID_PROPERTY_PATH]: draft.requestId };
    let committedMaybe = false;
    const created = await this.retrying('create the ticket', async () => {
      // After a 5xx or a dropped connection the issue may exist all the same; look before
      // posting again. Search lag can still hide it: only the caller keeping the ticket it got
      // (in the request store) closes that gap for good.
      if (committedMaybe) {
        const existing = await this.searchOnce(draft.requestId);
        if (existing) return existing;
      }
      try {
        const issue = await this.client.issues.createIssue({
          fields: {
            project: { key: draft.projectKey },
            issuetype: { name: draft.issueType },
            summary: draft.summary,
            description: toJiraDocument(draft.description),
            labels: [...new Set([...draft.labels, requestIdLabel(draft.requestId)])],
          },
          properties: [{ key: REQUEST_ID_PROPERTY, value: propertyValue }],
        });
        if (typeof issue.id !== 'string' || typeof issue.key !== 'string') {
          throw new TrackerUnavailableError('Jira answered the create without an issue id and key');
        }
        return { id: issue.id, key: issue.key };
      } catch (error) {
        const failure = classify(error);
        if (failure?.kind === 'retryable' && failure.ambiguous) committedMaybe = true;
        throw error;
      }
    });
    // Idempotent, so retried freely; the issue is never created twice by this call.
    await this.retrying(`set ${REQUEST_ID_PROPERTY} on ${created.key}`, () =>
      this.client.issueProperties.setIssueProperty({
        issueIdOrKey: created.id,
        propertyKey: REQUEST_ID_PROPERTY,
        propertyValue,
      }),
    );
    return this.ticket(created);
  }

  /**
   * The ticket as Jira has it now: one GET of the issue with its status, project and request id
   * property. Undefined when Jira does not show it (missing, or not visible to the account: Jira
   * answers 404 for both) and, with `projectKeys`, when it lives in another project: anyone who can
   * edit an issue there can plant our property on it, so it is treated as not ours at all.
   *
   * `requestId` is set only when the property is `{ "requestId": <a valid request id> }`; any
   * other value (a bare string, a number, garbage someone typed) reads as no request id.
   */
  async read(issueIdOrKey: string): Promise<TicketState | undefined> {
    assertIssueIdOrKey(issueIdOrKey);
    return this.readState(issueIdOrKey);
  }

  /**
   * Reads the issue (its status, and its project when `projectKeys` limit them), then lists the
   * transitions available to it now and posts the one leading to `status`. Transition ids are
   * looked up on every call, never kept: they differ per workflow, so per issue type and project.
   * When none leads there, the issue is read once more before answering 'no_transition': another
   * mover may have taken it to `status` between the first read and the list.
   *
   * Status names are matched exactly first; only when no transition matches exactly, ignoring
   * case. Jira keeps status names unique regardless of case, so the fallback cannot pick another
   * status, and "approved" from a config file still finds "Approved". "Already there" compares
   * the same way.
   *
   * A transition Jira refuses with 400 or 409 after we picked it means the issue moved under us
   * (another worker, a person, or our own earlier attempt whose answer was lost). It is read once
   * more: at `status` now → 'already_there'; moved elsewhere → 'no_transition'; not moved at all →
   * Jira refused for another reason (a required field on the transition screen, say), which is
   * thrown as it is, as TrackerRejectedError (400) or TrackerUnavailableError (409, a conflict).
   *
   * The POST is retried on 5xx like any other call: if the first attempt did move the issue, the
   * retry is refused with 400 and the re-read reports 'already_there'.
   */
  async moveTo(issueIdOrKey: string, status: string): Promise<MoveOutcome> {
    assertIssueIdOrKey(issueIdOrKey);
    if (typeof status !== 'string' || status.trim() === '')
      throw new TypeError('the status to move to must be a non-empty status name');
    const before = await this.readState(issueIdOrKey);
    if (!before) throw this.notFound(issueIdOrKey, `move ${issueIdOrKey} to "${status}"`);
    if (sameStatus(before.status, status)) return 'already_there';

    const listed = await this.retrying(`list the transitions of ${issueIdOrKey}`, () =>
      this.client.issues.getTransitions<TransitionsRead>({ issueIdOrKey: before.id }),
    );
    const transitionId = pickTransition(listed, status);
    if (transitionId === undefined) {
      // Nothing leads there from where the issue is now, which may be `status` itself if another
      // mover got there between our read and our list. One more read tells which.
      const now = await this.readState(before.id);
      return now && sameStatus(now.status, status) ? 'already_there' : 'no_transition';
    }

    try {
      await this.retrying(`move ${issueIdOrKey} to "${status}"`, () =>
        this.client.issues.doTransition({ issueIdOrKey: before.id, transition: { id: transitionId } }),
      );
      return 'moved';
    } catch (error) {
      if (!(error instanceof TrackerRejectedError) || (error.status !== 400 && error.status !== 409)) {
        throw error;
      }
      const after = await this.readState(before.id);
      if (!after) throw this.notFound(issueIdOrKey, `move ${issueIdOrKey} to "${status}"`);
      if (sameStatus(after.status, status)) return 'already_there';
      if (after.status !== before.status) return 'no_transition';
      if (error.status === 409) {
        // A conflict that left the status alone is another change racing ours: try again later.
        throw new TrackerUnavailableError(`${error.message} (a conflicting update; try again later)`);
      }
      throw error;
    }
  }

  /**
   * Adds the comment as written. Jira has no idempotency key for comments, so a retried POST whose first
   * attempt got through posts the comment twice. Only failures where Jira cannot have acted are
   * retried: 429 (refused at the door) and a connection that was never made. After a 5xx, a
   * timeout or a dropped connection the comment may or may not exist: that is thrown at once as
   * TrackerUnavailableError, leaving the choice (retry the command and risk a second comment, or
   * not) to the caller, which knows whether the comment matters more than a duplicate.
   *
   * The issue is not re-read first, so `projectKeys` do not apply here: comment on tickets that
   * came from `create`, `findByRequestId` or `read`.
   */
  async addComment(issueIdOrKey: string, body: AdfDocument): Promise<void> {
    assertIssueIdOrKey(issueIdOrKey);
    await this.retrying(
      `comment on ${issueIdOrKey}`,
      () =>
        this.client.issueComments.addComment<unknown>({
          issueIdOrKey,
          comment: toJiraDocument(body),
        }),
      { ambiguous: false },
    );
  }

  /**
   * The account's e-mail address, as Jira spells it (the caller matches it against the directory).
   * Undefined for an account Jira does not know (404), a deactivated one, one that is not a
   * person (`accountType` other than `atlassian`: apps, customers), and one whose profile hides
   * the address. An id that is not shaped like an Atlassian account id is never sent: undefined.
   */
  async accountEmail(accountId: string): Promise<string | undefined> {
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) return undefined;
    const user = await this.orNotFound(`look up account ${accountId}`, () =>
      this.client.users.getUser<UserRead>({ accountId }),
    );
    if (!isRecord(user) || user.accountId !== accountId) return undefined;
    if (user.active !== true || user.accountType !== 'atlassian') return undefined;
    const email = user.emailAddress;
    return typeof email === 'string' && email.trim() !== '' ? email : undefined;
  }

  /** Asked of /myself once per tracker; concurrent callers share the one call. */
  selfAccountId(): Promise<string> {
    this.selfAccount ??= this.retrying('read its own account', async () => {
      const me = await this.client.myself.getCurrentUser<UserRead>();
      if (!isRecord(me) || typeof me.accountId !== 'string' || !ACCOUNT_ID.test(me.accountId)) {
        throw new TrackerUnavailableError('Jira answered /myself without an account id');
      }
      return me.accountId;
    }).catch((error: unknown) => {
      this.selfAccount = undefined;
      throw error;
    });
    return this.selfAccount;
  }

  private async readState(issueIdOrKey: string): Promise<TicketState | undefined> {
    const issue = await this.orNotFound(`read ${issueIdOrKey}`, () =>
      this.client.issues.getIssue<IssueRead>({
        issueIdOrKey,
        fields: ['status', 'project'],
        properties: [REQUEST_ID_PROPERTY],
      }),
    );
    if (issue === undefined) return undefined;
    const id = issue.id;
    const key = issue.key;
    const status = issue.fields?.status?.name;
    const projectKey = issue.fields?.project?.key;
    if (
      typeof id !== 'string' ||
      typeof key !== 'string' ||
      typeof status !== 'string' ||
      typeof projectKey !== 'string'
    ) {
      throw new TrackerUnavailableError(
        `Jira answered the read of ${issueIdOrKey} without its id, key, status and project`,
      );
    }
    if (this.projectKeys && !this.projectKeys.includes(projectKey)) return undefined;
    const requestId = requestIdIn(issue.properties?.[REQUEST_ID_PROPERTY]);
    return requestId === undefined
      ? { id, key, projectKey, status }
      : { id, key, projectKey, status, requestId };
  }

  /** `retrying`, with 404 (missing, or hidden from the account: Jira does not say which) as undefined. */
  private async orNotFound<T>(what: string, attempt: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.retrying(what, attempt);
    } catch (error) {
      if (error instanceof TrackerRejectedError && error.status === 404) return undefined;
      throw error;
    }
  }

  private notFound(issueIdOrKey: string, what: string): TrackerRejectedError {
    const scope = this.projectKeys ? ` in ${this.projectKeys.join(', ')}` : '';
    return new TrackerRejectedError(
      `could not ${what}: no issue ${issueIdOrKey}${scope} visible to jit-access`,
      404,
    );
  }

  private async searchOnce(requestId: string): Promise<SearchHit | undefined> {
    const scope = this.projectKeys ? ` AND project in (${this.projectKeys.map(jqlString).join(', ')})` : '';
    const jql = `labels = ${jqlString(requestIdLabel(requestId))}${scope}`;
    let oldest: SearchHit | undefined;
    let nextPageToken: string | undefined;
    // Duplicates are rare and few; the cap only guards against a token that never ends.
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      const result = await this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearch<SearchPage>({
        jql,
        fields: ['created'],
        properties: [REQUEST_ID_PROPERTY],
        maxResults: SEARCH_PAGE_SIZE,
        nextPageToken,
      });
      for (const issue of result.issues ?? []) {
        if (typeof issue.id !== 'string' || typeof issue.key !== 'string') continue;
        // A label someone added by hand, on an issue jit-access never made, is not the ticket.
        if (requestIdIn(issue.properties?.[REQUEST_ID_PROPERTY]) !== requestId) continue;
        if (!oldest || Number(issue.id) < Number(oldest.id)) oldest = { id: issue.id, key: issue.key };
      }
      nextPageToken = result.nextPageToken ?? undefined;
      if (result.isLast !== false || !nextPageToken) break;
    }
    return oldest;
  }

  async keysInStatus(status: string, limit: number): Promise<readonly string[]> {
    const scope = this.projectKeys ? ` AND project in (${this.projectKeys.map(jqlString).join(', ')})` : '';
    const jql = `status = ${jqlString(status)}${scope} ORDER BY updated DESC`;
    const keys: string[] = [];
    let nextPageToken: string | undefined;
    for (let page = 0; page < MAX_SEARCH_PAGES && keys.length < limit; page++) {
      const result = await this.retrying(`search for tickets in ${status}`, () =>
        this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearch<SearchPage>({
          jql,
          fields: ['status'],
          maxResults: Math.min(SEARCH_PAGE_SIZE, limit - keys.length),
          nextPageToken,
        }),
      );
      for (const issue of result.issues ?? []) if (typeof issue.key === 'string') keys.push(issue.key);
      nextPageToken = result.nextPageToken ?? undefined;
      if (result.isLast !== false || !nextPageToken) break;
    }
    return keys.slice(0, limit);
  }

  async lastMoveTo(issueIdOrKey: string, status: string): Promise<TicketStatusChange | undefined> {
    assertIssueIdOrKey(issueIdOrKey);
    let found: TicketStatusChange | undefined;
    for (let startAt = 0, page = 0; page < MAX_SEARCH_PAGES; page++) {
      const result = await this.orNotFound(`read the changelog of ${issueIdOrKey}`, () =>
        this.client.issues.getChangeLogs<ChangelogPage>({ issueIdOrKey, startAt, maxResults: 100 }),
      );
      const values = result?.values ?? [];
      for (const entry of values) {
        const item = entry.items?.find(
          (candidate) => candidate.fieldId === 'status' || candidate.field === 'status',
        );
        const accountId = entry.author?.accountId;
        if (item?.toString !== status || !item.fromString || typeof accountId !== 'string') continue;
        found = {
          issueId: issueIdOrKey,
          accountId,
          fromStatus: item.fromString,
          toStatus: status,
          deliveryKey: `${issueIdOrKey}:${entry.id ?? ''}`,
        };
      }
      startAt += values.length;
      if (!result || result.isLast !== false || values.length === 0) break;
    }
    return found;
  }

  private ticket(hit: SearchHit): Ticket {
    return { id: hit.id, key: hit.key, url: `${this.host}/browse/${encodeURIComponent(hit.key)}` };
  }

  /**
   * Runs `attempt` until it succeeds, Jira refuses (4xx: TrackerRejectedError), or patience runs
   * out (TrackerUnavailableError). 429 waits what Retry-After says; 5xx and network failures back
   * off exponentially with jitter. With `ambiguous: false`, a failure after which Jira may have
   * done the work is not retried but thrown at once as TrackerUnavailableError.
   */
  private async retrying<T>(what: string, attempt: () => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
    for (let retry = 0; ; retry++) {
      let failure: Failure;
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof TrackerRejectedError || error instanceof TrackerUnavailableError) throw error;
        const classified = classify(error);
        if (!classified) {
          // Not an HTTP exchange at all (a bug or a misconfiguration in the client): retrying won't help.
          throw new TrackerUnavailableError(`could not ${what}: ${describeLocalError(error)}`);
        }
        failure = classified;
      }
      if (failure.kind === 'rejected') {
        throw new TrackerRejectedError(
          `Jira refused to ${what}: ${failure.status} ${failure.detail}`,
          failure.status,
        );
      }
      if (failure.ambiguous && policy.ambiguous === false) {
        throw new TrackerUnavailableError(
          `could not ${what}: ${failure.status ?? 'network'} ${failure.detail}; Jira may have done it all the same, so it was not retried`,
        );
      }
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > this.maxRetryAfterMs) {
        throw new TrackerUnavailableError(
          `Jira asked us to wait ${Math.ceil(failure.retryAfterMs / 1000)} s before we ${what} again (${failure.detail}); we wait at most ${Math.ceil(this.maxRetryAfterMs / 1000)} s`,
        );
      }
      if (retry >= this.maxRetries) {
        throw new TrackerUnavailableError(
          `could not ${what} after ${retry + 1} attempts: ${failure.status ?? 'network'} ${failure.detail}`,
        );
      }
      await this.sleep(failure.retryAfterMs ?? this.backoff(retry));
    }
  }

  /** Half the exponential step plus a random half, so workers that failed together spread out. */
  private backoff(retry: number): number {
    const step = Math.min(this.maxBackoffMs, this.baseRetryMs * 2 ** retry);
    return Math.round(step / 2 + this.random() * (step / 2));
  }
}

function assertRequestId(requestId: string): void {
  // Checked before it goes anywhere near JQL; the escaping below is the second line, not the first.
  if (typeof requestId !== 'string' || !isRequestId(requestId))
    throw new InvalidRequestIdError(String(requestId));
}

function assertIssueIdOrKey(issueIdOrKey: string): void {
  // Checked before it goes into a URL path, which jira.js does not encode: "../myself" must never
  // reach Jira as a path.
  if (typeof issueIdOrKey !== 'string' || !(ISSUE_ID.test(issueIdOrKey) || ISSUE_KEY.test(issueIdOrKey))) {
    const shown =
      typeof issueIdOrKey === 'string' ? JSON.stringify(issueIdOrKey.slice(0, 40)) : typeof issueIdOrKey;
    throw new TypeError(`${shown} is not a Jira issue id (digits) or key (like DBA-42)`);
  }
}

/** The request id in the property's value, if it is `{ requestId: <a valid request id> }`. */
function requestIdIn(value: unknown): string | undefined {
  if (!isRecord(value) || Array.isArray(value)) return undefined;
  const requestId = value[REQUEST_ID_PROPERTY_PATH];
  return typeof requestId === 'string' && isRequestId(requestId) ? requestId : undefined;
}

function sameStatus(actual: string, wanted: string): boolean {
  return actual === wanted || actual.toLowerCase() === wanted.toLowerCase();
}

/**
 * The id of an available transition leading to `status`: matching the name exactly, else ignoring
 * case. When several lead there, the first Jira lists (the order of the issue's transition
 * buttons); any of them ends at the same status.
 */
function pickTransition(listed: TransitionsRead, status: string): string | undefined {
  const candidates = (Array.isArray(listed.transitions) ? listed.transitions : []).flatMap((transition) => {
    if (!isRecord(transition) || transition.isAvailable === false) return [];
    const id = transition.id;
    const to = isRecord(transition.to) ? transition.to.name : undefined;
    if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '' || typeof to !== 'string')
      return [];
    return [{ id: String(id), to }];
  });
  const exact = candidates.find((candidate) => candidate.to === status);
  if (exact) return exact.id;
  return candidates.find((candidate) => candidate.to.toLowerCase() === status.toLowerCase())?.id;
}

/** jira.js types ADF with mutable arrays; copy the port's read-only document into that shape. */
function toJiraDocument(document: AdfDocument): Version3Models.Document {
  return { type: 'doc', version: 1, content: document.content.map(toJiraNode) };
}

function toJiraNode(node: AdfNode): Omit<Version3Models.Document, 'version'> {
  const copy: Omit<Version3Models.Document, 'version'> = { type: node.type };
  if (node.attrs !== undefined) copy.attrs = structuredClone(node.attrs);
  if (node.text !== undefined) copy.text = node.text;
  if (node.marks !== undefined) copy.marks = node.marks.map((mark) => structuredClone({ ...mark }));
  if (node.content !== undefined) copy.content = node.content.map(toJiraNode);
  return copy;
}

/** A JQL string literal: double quotes, with backslash and quote escaped, and no line breaks. */
export function jqlString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

/** Network failures that happen before a request is sent, so Jira cannot have acted on it. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

interface ResponseLike {
  status?: unknown;
  headers?: unknown;
  data?: unknown;
}

/**
 * Reads what jira.js threw: an HttpException wrapping the axios error when Jira answered, the bare
 * axios error when it did not (refused, reset, timed out). Undefined for anything else.
 */
function classify(error: unknown): Failure | undefined {
  let response: ResponseLike | undefined;
  let networkCode: string | undefined;
  if (error instanceof HttpException) {
    const cause: unknown = error.cause;
    if (isRecord(cause) && isRecord(cause.response)) response = cause.response;
    else if (isRecord(cause) && cause.isAxiosError === true)
      networkCode = String(cause.code ?? 'network error');
    else return undefined;
  } else if (isRecord(error) && error.isAxiosError === true) {
    if (isRecord(error.response)) response = error.response;
    else networkCode = String(error.code ?? 'network error');
  } else {
    return undefined;
  }
  if (!response) {
    const detail = networkCode ?? 'network error';
    // Refused or unresolvable: no request reached Jira. Anything else (reset, timeout) may have.
    return { kind: 'retryable', detail, ambiguous: !NEVER_CONNECTED.has(detail) };
  }
  const status = typeof response.status === 'number' ? response.status : 0;
  const detail = describeBody(response.data);
  const retryAfterMs = parseRetryAfter(headerValue(response.headers, 'retry-after'));
  // 429 is refused at the door, so nothing was done; a 5xx may have come after the write.
  if (status === 429) return { kind: 'retryable', status, detail, retryAfterMs, ambiguous: false };
  if (status >= 500 || status === 0)
    return { kind: 'retryable', status, detail, retryAfterMs, ambiguous: true };
  return { kind: 'rejected', status, detail };
}

/** Jira's ErrorCollection as one line: the messages, then each field's error. */
function describeBody(data: unknown): string {
  if (isRecord(data)) {
    const parts: string[] = [];
    if (Array.isArray(data.errorMessages)) {
      parts.push(...data.errorMessages.filter((message): message is string => typeof message === 'string'));
    }
    if (isRecord(data.errors)) {
      for (const [field, message] of Object.entries(data.errors)) parts.push(`${field}: ${String(message)}`);
    }
    if (typeof data.message === 'string') parts.push(data.message);
    return truncate(parts.join('; ') || '(no error message)');
  }
  if (typeof data === 'string') {
    const text = data.trim();
    if (text === '') return '(empty body)';
    if (/^<(!doctype|html)/i.test(text)) return '(HTML error page)';
    return truncate(text.replace(/\s+/g, ' '));
  }
  return '(no error message)';
}

function describeLocalError(error: unknown): string {
  if (error instanceof Error) return truncate(`${error.name}: ${error.message}`);
  return 'unknown error';
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  // axios hands back AxiosHeaders (with get()) or a plain object, lower-cased either way.
  const getter = headers.get;
  const value =
    typeof getter === 'function' ? (getter as (key: string) => unknown).call(headers, name) : headers[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** Retry-After is seconds or an HTTP date; Jira Cloud sends seconds. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function truncate(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
