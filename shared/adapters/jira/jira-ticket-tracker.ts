import { HttpException, Version3Client, type Version3Models } from 'jira.js';
import { isRequestId } from '../../domain/request-id.js';
import { InvalidRequestIdError } from '../../domain/errors.js';
import {
  type AdfDocument,
  type AdfNode,
  REQUEST_ID_PROPERTY,
  type Ticket,
  type TicketDraft,
  type TicketTracker,
  TrackerRejectedError,
  TrackerUnavailableError,
} from '../../ports/ticket-tracker.js';

/**
 * Where the request id sits inside the property's JSON value: `{ "requestId": "REQ-…" }`.
 * Jira Cloud indexes an entity property for JQL only by a path inside a JSON object, declared by
 * an app (a Forge `jira:entityProperty` module with propertyKey `jitAccessRequestId`, value path
 * `requestId`, type `string`); a bare string value could never be searched.
 */
export const REQUEST_ID_PROPERTY_PATH = 'requestId';

export interface JiraTicketTrackerOptions {
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
  /** Retries after the first attempt, for 429, 5xx and network failures. Default 3. */
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
interface SearchPage {
  issues?: { id?: string; key?: string }[];
  nextPageToken?: string | null;
  isLast?: boolean;
}

/** Found with the search, or created. */
interface SearchHit {
  id: string;
  key: string;
}

const PROJECT_KEY = /^[A-Z][A-Z0-9_]{0,254}$/;
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

  constructor(options: JiraTicketTrackerOptions) {
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
   * The ticket whose property holds `requestId`. Should more than one exist (two workers raced,
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

  async create(draft: TicketDraft): Promise<Ticket> {
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
            labels: [...draft.labels],
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

  private async searchOnce(requestId: string): Promise<SearchHit | undefined> {
    const scope = this.projectKeys ? ` AND project in (${this.projectKeys.map(jqlString).join(', ')})` : '';
    const jql = `${propertyClause(requestId)}${scope}`;
    let oldest: SearchHit | undefined;
    let nextPageToken: string | undefined;
    // Duplicates are rare and few; the cap only guards against a token that never ends.
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      const result = await this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearch<SearchPage>({
        jql,
        fields: ['created'],
        maxResults: SEARCH_PAGE_SIZE,
        nextPageToken,
      });
      for (const issue of result.issues ?? []) {
        if (typeof issue.id !== 'string' || typeof issue.key !== 'string') continue;
        if (!oldest || Number(issue.id) < Number(oldest.id)) oldest = { id: issue.id, key: issue.key };
      }
      nextPageToken = result.nextPageToken ?? undefined;
      if (result.isLast !== false || !nextPageToken) break;
    }
    return oldest;
  }

  private ticket(hit: SearchHit): Ticket {
    return { id: hit.id, key: hit.key, url: `${this.host}/browse/${encodeURIComponent(hit.key)}` };
  }

  /**
   * Runs `attempt` until it succeeds, Jira refuses (4xx: TrackerRejectedError), or patience runs
   * out (TrackerUnavailableError). 429 waits what Retry-After says; 5xx and network failures back
   * off exponentially with jitter.
   */
  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
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

function propertyClause(requestId: string): string {
  return `issue.property[${REQUEST_ID_PROPERTY}].${REQUEST_ID_PROPERTY_PATH} = ${jqlString(requestId)}`;
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
  if (!response) return { kind: 'retryable', detail: networkCode ?? 'network error', ambiguous: true };
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
