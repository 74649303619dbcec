import { createHash, randomInt } from 'node:crypto';
import { type LoopbackServer, lowerCaseHeaders, readBody, startLoopbackServer } from '../loopback-server.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../shared/ports/clock.js';
import {
  DEFAULT_WEBHOOK_MAX_RETRIES,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  type JiraPendingWebhook,
  type JiraWebhookDelivery,
  JiraWebhookDispatcher,
  type JiraWebhookEvent,
  type JiraWebhookRegistration,
} from './jira-webhooks.js';

export {
  EMULATED_WEBHOOK_EVENTS,
  type JiraPendingWebhook,
  type JiraWebhookDelivery,
  type JiraWebhookEvent,
  type JiraWebhookRegistration,
  signWebhookBody,
} from './jira-webhooks.js';

/**
 * The Jira Cloud REST v3 operations the emulator answers, named by their operationId in Atlassian's
 * OpenAPI description so failures can be injected by the same names the spec uses. Anything else
 * answers 404, so a new call in the product fails loudly in tests instead of silently "working".
 */
export const EMULATED_JIRA_OPERATIONS = [
  'createIssue',
  'getIssue',
  'getIssuePropertyKeys',
  'getIssueProperty',
  'setIssueProperty',
  'getComments',
  'addComment',
  'getTransitions',
  'doTransition',
  'searchAndReconsileIssuesUsingJql',
  'searchAndReconsileIssuesUsingJqlPost',
  'getUser',
  'getCurrentUser',
  // Retired by Atlassian (CHANGE-2046); routed only to answer 410 as Jira Cloud now does.
  'searchForIssuesUsingJql',
  'searchForIssuesUsingJqlPost',
] as const;
export type JiraOperation = (typeof EMULATED_JIRA_OPERATIONS)[number];

interface Route {
  operation: JiraOperation;
  method: string;
  template: string;
  pattern: RegExp;
  params: string[];
}

const ROUTES: Route[] = (
  [
    ['createIssue', 'POST', '/rest/api/3/issue'],
    ['getIssue', 'GET', '/rest/api/3/issue/{issueIdOrKey}'],
    ['getIssuePropertyKeys', 'GET', '/rest/api/3/issue/{issueIdOrKey}/properties'],
    ['getIssueProperty', 'GET', '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}'],
    ['setIssueProperty', 'PUT', '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}'],
    ['getComments', 'GET', '/rest/api/3/issue/{issueIdOrKey}/comment'],
    ['addComment', 'POST', '/rest/api/3/issue/{issueIdOrKey}/comment'],
    ['getTransitions', 'GET', '/rest/api/3/issue/{issueIdOrKey}/transitions'],
    ['doTransition', 'POST', '/rest/api/3/issue/{issueIdOrKey}/transitions'],
    ['searchAndReconsileIssuesUsingJql', 'GET', '/rest/api/3/search/jql'],
    ['searchAndReconsileIssuesUsingJqlPost', 'POST', '/rest/api/3/search/jql'],
    ['getUser', 'GET', '/rest/api/3/user'],
    ['getCurrentUser', 'GET', '/rest/api/3/myself'],
    ['searchForIssuesUsingJql', 'GET', '/rest/api/3/search'],
    ['searchForIssuesUsingJqlPost', 'POST', '/rest/api/3/search'],
  ] as const
).map(([operation, method, template]) => {
  const params: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { operation, method, template, pattern: new RegExp(`^${source}/?$`), params };
});

/** The message Jira answers for an issue that is missing or hidden from the caller: it never says which. */
export const ISSUE_NOT_FOUND_MESSAGE = 'Issue does not exist or you do not have permission to see it.';
/** What Jira Cloud answers on the retired /rest/api/3/search since CHANGE-2046. */
export const SEARCH_REMOVED_MESSAGE =
  'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046';
/** What Jira Cloud sends (as text/plain) for a wrong API token; see `unauthorizedBody`. */
export const CLOUD_UNAUTHORIZED_TEXT = 'Client must be authenticated to access this resource.';
const UNAUTHENTICATED_MESSAGE =
  'You are not authenticated. Authentication required to perform this operation.';

/** The issue property jit-access searches on, and the path inside its JSON value that is indexed. */
export const DEFAULT_INDEXED_PROPERTIES: readonly JiraIndexedProperty[] = [
  { key: 'jitAccessRequestId', path: 'requestId' },
];

const MAX_SUMMARY_LENGTH = 255;
const MAX_LABEL_LENGTH = 255;
const MAX_PROPERTY_KEY_LENGTH = 255;
const MAX_PROPERTY_VALUE_LENGTH = 32_768;
/** Jira returns at most 5000 issues a page when only ids are asked for, fewer with fields. */
const MAX_RESULTS_IDS_ONLY = 5_000;
const MAX_RESULTS_WITH_FIELDS = 100;
const DEFAULT_MAX_RESULTS = 50;
const MAX_RECONCILE_ISSUES = 50;

/** Statuses belong to one of Jira's three fixed categories; the ids are the ones Jira Cloud uses. */
const STATUS_CATEGORIES = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
} as const;
export type JiraStatusCategory = keyof typeof STATUS_CATEGORIES;

/** ADF node types Jira accepts in a document; anything else is a typo Jira would refuse. */
const ADF_NODE_TYPES = new Set([
  'blockCard',
  'blockquote',
  'bulletList',
  'codeBlock',
  'date',
  'decisionItem',
  'decisionList',
  'embedCard',
  'emoji',
  'expand',
  'hardBreak',
  'heading',
  'inlineCard',
  'layoutColumn',
  'layoutSection',
  'listItem',
  'media',
  'mediaGroup',
  'mediaInline',
  'mediaSingle',
  'mention',
  'nestedExpand',
  'orderedList',
  'panel',
  'paragraph',
  'rule',
  'status',
  'table',
  'tableCell',
  'tableHeader',
  'tableRow',
  'taskItem',
  'taskList',
  'text',
]);

const SETTABLE_FIELDS = new Set(['project', 'issuetype', 'summary', 'description', 'labels']);
const ISSUE_FIELDS = [
  'summary',
  'description',
  'labels',
  'status',
  'issuetype',
  'project',
  'created',
  'updated',
  'reporter',
  'creator',
  'comment',
] as const;
type IssueField = (typeof ISSUE_FIELDS)[number];

// ---- fixtures and options ---------------------------------------------------------------

export interface JiraUserFixture {
  accountId: string;
  displayName: string;
  emailAddress?: string;
  /** Deactivated accounts are still returned, with `active: false`. Default true. */
  active?: boolean;
  /**
   * Jira hides a user's email unless their profile visibility allows it (or the app has
   * read:email-address:jira). Default false; the app user always sees its own through /myself.
   */
  emailVisible?: boolean;
  accountType?: 'atlassian' | 'app' | 'customer';
  timeZone?: string;
}

export interface JiraWorkflowFixture {
  name: string;
  /** In order; the first is where new issues start unless `initialStatus` says otherwise. */
  statuses: { name: string; category: JiraStatusCategory }[];
  initialStatus?: string;
  /** `from: 'any'` makes a global transition, available from every status but its target. */
  transitions: { name: string; from: string[] | 'any'; to: string }[];
}

export interface JiraIssueTypeFixture {
  name: string;
  workflow: string;
  id?: string;
}

export interface JiraProjectFixture {
  key: string;
  name?: string;
  id?: string;
  issueTypes: JiraIssueTypeFixture[];
  /** What the app user may do in the project; everything defaults to true. */
  permissions?: {
    browse?: boolean;
    create?: boolean;
    edit?: boolean;
    transition?: boolean;
    comment?: boolean;
  };
}

export interface JiraIndexedProperty {
  /** The issue property key. */
  key: string;
  /** Dot path inside the property's JSON value, as a Forge `jira:entityProperty` module declares it. */
  path: string;
}

export interface JiraEmulatorOptions {
  /** The app user: whose email and API token authenticate, who reports the issues it creates. */
  appUser?: { accountId: string; displayName: string; emailAddress: string };
  apiToken?: string;
  /** An OAuth 2.0 access token accepted as `Authorization: Bearer …`. */
  accessToken?: string;
  /** Other people, for /user and as comment authors. */
  users?: JiraUserFixture[];
  workflows?: JiraWorkflowFixture[];
  projects?: JiraProjectFixture[];
  /**
   * Entity property values JQL can query. Jira Cloud indexes a property only when an app declares
   * it, so a clause on anything else fails here the way it does on a site without the app.
   */
  indexedProperties?: readonly JiraIndexedProperty[];
  /**
   * Search is eventually consistent in Jira Cloud: a change reaches /search/jql only after the index
   * catches up. With a lag, changes become searchable `searchIndexLagMs` later on `clock`, or at
   * `indexNow()`. `reconcileIssues` sees through the lag, as in Jira. Default 0: immediate.
   */
  searchIndexLagMs?: number;
  /** Delay before every answer, or per call. */
  latencyMs?: number | ((call: RecordedJiraCall) => number);
  /**
   * `json` (default) answers bad credentials with an ErrorCollection, as the OpenAPI description
   * documents; `text` answers as Jira Cloud does in practice: text/plain
   * "Client must be authenticated to access this resource." with an X-Seraph-LoginReason header.
   */
  unauthorizedBody?: 'json' | 'text';
  clock?: Clock;
  /**
   * How registered webhooks go out. `immediate` (default): each event is sent as it happens, without
   * the change waiting for it (attempts run concurrently, so arrival order is not guaranteed, as in
   * Jira); `flushWebhooks()` waits for them. `manual`: events wait in `pendingWebhooks()` until
   * `deliverWebhooks()` sends them, in order or newest first.
   */
  webhookDelivery?: 'immediate' | 'manual';
  /** Retries after a retryable failure (408, 409, 425, 429, 5xx, no connection). Default 5, as Jira Cloud. */
  webhookMaxRetries?: number;
  /** Wait before each retry; Jira waits minutes. Default 0. */
  webhookRetryDelayMs?: number;
  /** How long an attempt may take before it counts as a failed connection. Default 10 s. */
  webhookTimeoutMs?: number;
}

// ---- recorded calls and failures --------------------------------------------------------

export interface RecordedJiraCall {
  operation?: JiraOperation;
  method: string;
  /** The request path without the query string, as sent (not decoded). */
  path: string;
  /** The operation's path template, e.g. /rest/api/3/issue/{issueIdOrKey}. */
  template?: string;
  pathParams: Record<string, string>;
  /** Query parameters, decoded; a parameter sent twice has two values. */
  query: Record<string, string[]>;
  rawQuery: string;
  /** Parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
  rawBody: string;
  /** Request headers, lower-cased. */
  headers: Record<string, string>;
  at: Date;
  /** True when the answer came from `failNext` rather than the emulated operation. */
  injected: boolean;
  response: { status: number; body: unknown; headers: Record<string, string> };
}

export interface JiraFailure {
  status: number;
  /** Sent as the Retry-After header (seconds); 429 gets 1 unless told otherwise. */
  retryAfterSeconds?: number;
  /** How many matching calls fail; default 1. */
  times?: number;
  /** Replaces the default ErrorCollection for the status. A string is sent as text/plain. */
  body?: unknown;
  /**
   * Carry out the request, then answer with the failure: Jira committed but the caller saw an
   * error (a gateway timeout after the write). The case that makes blind retries duplicate issues.
   */
  afterHandling?: boolean;
  /** Close the connection without answering (the caller sees a network error); `status` is ignored. */
  dropConnection?: boolean;
}

export type JiraCallMatcher = JiraOperation | '*' | ((call: RecordedJiraCall) => boolean);

export interface JiraCommentSnapshot {
  id: string;
  body: unknown;
  authorAccountId: string;
  created: Date;
}

/** A transition performed, and who performed it. */
export interface JiraHistoryEntry {
  transitionId: string;
  from: string;
  to: string;
  at: Date;
  /** The app user for transitions made through the API; the person for `transitionAs`. */
  accountId: string;
}

export interface JiraIssueSnapshot {
  id: string;
  key: string;
  projectKey: string;
  issueType: string;
  summary: string;
  description: unknown;
  labels: string[];
  status: string;
  reporterAccountId: string;
  properties: Record<string, unknown>;
  comments: JiraCommentSnapshot[];
  /** Transitions performed, oldest first. */
  history: JiraHistoryEntry[];
  created: Date;
  updated: Date;
}

export interface JiraSeedIssue {
  projectKey: string;
  issueType: string;
  summary: string;
  description?: unknown;
  labels?: string[];
  properties?: Record<string, unknown>;
  status?: string;
}

// ---- internal records -------------------------------------------------------------------

interface StatusRecord {
  id: string;
  name: string;
  category: JiraStatusCategory;
}

interface TransitionRecord {
  id: string;
  name: string;
  from: Set<string> | 'any';
  to: string;
}

interface WorkflowRecord {
  name: string;
  statuses: Map<string, StatusRecord>;
  initial: string;
  transitions: TransitionRecord[];
}

interface IssueTypeRecord {
  id: string;
  name: string;
  workflow: WorkflowRecord;
}

interface ProjectRecord {
  id: string;
  key: string;
  name: string;
  issueTypes: IssueTypeRecord[];
  permissions: { browse: boolean; create: boolean; edit: boolean; transition: boolean; comment: boolean };
  nextIssueNumber: number;
}

interface CommentRecord {
  id: string;
  body: unknown;
  authorAccountId: string;
  created: Date;
}

/** What search sees of an issue: a copy taken when the index caught up with it. */
interface IndexedView {
  id: string;
  key: string;
  projectId: string;
  projectKey: string;
  projectName: string;
  issueTypeId: string;
  issueTypeName: string;
  statusId: string;
  statusName: string;
  labels: string[];
  summary: string;
  properties: Record<string, unknown>;
  created: number;
  updated: number;
}

interface IssueRecord {
  id: string;
  key: string;
  project: ProjectRecord;
  issueType: IssueTypeRecord;
  summary: string;
  description: unknown;
  labels: string[];
  statusName: string;
  reporterAccountId: string;
  properties: Map<string, unknown>;
  comments: CommentRecord[];
  history: JiraHistoryEntry[];
  created: Date;
  updated: Date;
  indexed: IndexedView | undefined;
  pendingIndex: { view: IndexedView; visibleAt: number }[];
}

interface PendingFailure {
  matcher: JiraCallMatcher;
  failure: JiraFailure;
  remaining: number;
}

interface Reply {
  status: number;
  /** JSON-encoded unless `text` is set; undefined sends no body. */
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

interface Principal {
  accountId: string;
}

const systemClock: Clock = { now: () => new Date() };

const DEFAULT_APP_USER = {
  accountId: '712020:5f0c6f2e-jit0-4acc-b0t0-000000000001',
  displayName: 'jit-access',
  emailAddress: 'jit-access@example.com',
};
const DEFAULT_API_TOKEN = 'test-jira-api-token-of-the-emulator';

/** The workflow jit-access tickets follow; Declined and Done end it. */
export const ACCESS_REQUEST_WORKFLOW: JiraWorkflowFixture = {
  name: 'jit-access request workflow',
  statuses: [
    { name: 'To Do', category: 'new' },
    { name: 'Approved', category: 'indeterminate' },
    { name: 'Declined', category: 'done' },
    { name: 'Access Granted', category: 'indeterminate' },
    { name: 'Done', category: 'done' },
  ],
  transitions: [
    { name: 'Approve', from: ['To Do'], to: 'Approved' },
    { name: 'Decline', from: ['To Do'], to: 'Declined' },
    { name: 'Grant access', from: ['Approved'], to: 'Access Granted' },
    { name: 'Done', from: ['Access Granted'], to: 'Done' },
  ],
};

/** Jira's default software workflow, so tests can show transition ids are per workflow. */
export const SIMPLE_WORKFLOW: JiraWorkflowFixture = {
  name: 'Software Simplified Workflow',
  statuses: [
    { name: 'To Do', category: 'new' },
    { name: 'In Progress', category: 'indeterminate' },
    { name: 'Done', category: 'done' },
  ],
  transitions: [
    { name: 'Start', from: ['To Do'], to: 'In Progress' },
    { name: 'Done', from: 'any', to: 'Done' },
    { name: 'Reopen', from: ['Done'], to: 'To Do' },
  ],
};

export const DEFAULT_PROJECTS: readonly JiraProjectFixture[] = [
  {
    key: 'DBA',
    name: 'Database Access',
    issueTypes: [
      { name: 'Access Request', workflow: ACCESS_REQUEST_WORKFLOW.name },
      { name: 'Task', workflow: SIMPLE_WORKFLOW.name },
    ],
  },
];

/**
 * An in-process stand-in for the slice of Jira Cloud's REST API v3 that jit-access uses, on
 * 127.0.0.1. Point a jira.js Version3Client at `url`. It keeps issues (fields, entity properties,
 * comments, workflow status), records every call, can fail the next calls, and models search as
 * eventually consistent when asked to. It also sends admin webhooks (`registerWebhook`), signed,
 * retried and duplicated as Jira Cloud does, for changes made through the API and for what people
 * do in the UI (`transitionAs`, `commentAs`).
 */
export class JiraEmulator {
  readonly calls: RecordedJiraCall[] = [];

  private server: LoopbackServer | undefined;
  private baseUrl: string | undefined;
  private readonly clock: Clock;
  readonly appUser: { accountId: string; displayName: string; emailAddress: string };
  private readonly apiToken: string;
  private readonly accessToken: string | undefined;
  private readonly users = new Map<string, JiraUserFixture>();
  private readonly workflows = new Map<string, WorkflowRecord>();
  private readonly projects = new Map<string, ProjectRecord>();
  private readonly indexedProperties: readonly JiraIndexedProperty[];
  private searchIndexLagMs: number;
  private latency: JiraEmulatorOptions['latencyMs'];
  private readonly unauthorizedBody: 'json' | 'text';
  private readonly issueStore = new Map<string, IssueRecord>();
  private failures: PendingFailure[] = [];
  private nextIssueId: number;
  private nextCommentId = 10_000;
  private nextChangelogId: number;
  private readonly webhooks: JiraWebhookDispatcher;

  constructor(options: JiraEmulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.webhooks = new JiraWebhookDispatcher({
      mode: options.webhookDelivery ?? 'immediate',
      maxRetries: options.webhookMaxRetries ?? DEFAULT_WEBHOOK_MAX_RETRIES,
      retryDelayMs: options.webhookRetryDelayMs ?? 0,
      timeoutMs: options.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      clock: this.clock,
    });
    this.nextChangelogId = 10_000 + randomInt(0, 90_000);
    this.appUser = { ...(options.appUser ?? DEFAULT_APP_USER) };
    this.apiToken = options.apiToken ?? DEFAULT_API_TOKEN;
    this.accessToken = options.accessToken;
    this.indexedProperties = options.indexedProperties ?? DEFAULT_INDEXED_PROPERTIES;
    this.searchIndexLagMs = options.searchIndexLagMs ?? 0;
    this.latency = options.latencyMs;
    this.unauthorizedBody = options.unauthorizedBody ?? 'json';
    // Issue ids are site-wide and only ever grow, which is what "oldest = lowest id" rests on.
    this.nextIssueId = 10_000 + randomInt(0, 90_000);
    this.users.set(this.appUser.accountId, {
      ...this.appUser,
      accountType: 'app',
      active: true,
      emailVisible: false,
    });
    for (const user of options.users ?? []) this.users.set(user.accountId, user);

    // Transition ids are allocated from one counter with a random start, so no two workflows share
    // an id and no test (or product code) can get away with hard-coding one: look them up by name.
    let transitionId = 11 + 10 * randomInt(1, 500);
    let statusId = 10_000 + randomInt(0, 1_000);
    for (const fixture of options.workflows ?? [ACCESS_REQUEST_WORKFLOW, SIMPLE_WORKFLOW]) {
      const statuses = new Map<string, StatusRecord>();
      for (const status of fixture.statuses) {
        statuses.set(status.name, { id: String(statusId++), name: status.name, category: status.category });
      }
      const initial = fixture.initialStatus ?? fixture.statuses[0]?.name;
      if (!initial || !statuses.has(initial))
        throw new Error(`workflow ${fixture.name} has no initial status`);
      const transitions: TransitionRecord[] = fixture.transitions.map((transition) => {
        for (const name of [...(transition.from === 'any' ? [] : transition.from), transition.to]) {
          if (!statuses.has(name)) throw new Error(`workflow ${fixture.name}: unknown status ${name}`);
        }
        const id = String(transitionId);
        transitionId += 10;
        return {
          id,
          name: transition.name,
          from: transition.from === 'any' ? 'any' : new Set(transition.from),
          to: transition.to,
        };
      });
      this.workflows.set(fixture.name, { name: fixture.name, statuses, initial, transitions });
    }

    let projectId = 10_000 + randomInt(0, 1_000);
    let issueTypeId = 10_001 + randomInt(0, 1_000);
    for (const fixture of options.projects ?? DEFAULT_PROJECTS) {
      const issueTypes = fixture.issueTypes.map((type) => {
        const workflow = this.workflows.get(type.workflow);
        if (!workflow) throw new Error(`issue type ${type.name}: unknown workflow ${type.workflow}`);
        return { id: type.id ?? String(issueTypeId++), name: type.name, workflow };
      });
      this.projects.set(fixture.key, {
        id: fixture.id ?? String(projectId++),
        key: fixture.key,
        name: fixture.name ?? fixture.key,
        issueTypes,
        permissions: {
          browse: fixture.permissions?.browse ?? true,
          create: fixture.permissions?.create ?? true,
          edit: fixture.permissions?.edit ?? true,
          transition: fixture.permissions?.transition ?? true,
          comment: fixture.permissions?.comment ?? true,
        },
        nextIssueNumber: 1,
      });
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.server) throw new Error('the Jira emulator is already started');
    this.server = await startLoopbackServer('jira emulator', (req, res) => this.handle(req, res));
    this.baseUrl = this.server.url;
  }

  /** Stops answering; webhook attempts in flight and pending retries are abandoned. */
  async stop(): Promise<void> {
    this.webhooks.cancel();
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** http://127.0.0.1:<port>, the `host` for a jira.js client. */
  get url(): string {
    if (!this.baseUrl) throw new Error('the Jira emulator is not started');
    return this.baseUrl;
  }

  /** The credentials the emulator accepts for Basic auth. */
  get credentials(): { email: string; apiToken: string } {
    return { email: this.appUser.emailAddress, apiToken: this.apiToken };
  }

  // ---- failure injection and timing -------------------------------------------------------

  /**
   * Makes the next `times` (default 1) calls that match fail. `route` is an operationId (see
   * EMULATED_JIRA_OPERATIONS), `*` for any call, or a predicate on the recorded call.
   */
  failNext(route: JiraCallMatcher, failure: JiraFailure): void {
    const remaining = failure.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) throw new Error('times must be a positive integer');
    this.failures.push({ matcher: route, failure, remaining });
  }

  setLatency(latencyMs: JiraEmulatorOptions['latencyMs']): void {
    this.latency = latencyMs;
  }

  setSearchIndexLag(ms: number): void {
    this.searchIndexLagMs = ms;
  }

  /** Lets the search index catch up with every change made so far. */
  indexNow(): void {
    for (const issue of this.issueStore.values()) {
      const latest = issue.pendingIndex.at(-1);
      if (latest) issue.indexed = latest.view;
      issue.pendingIndex = [];
    }
  }

  // ---- inspection and seeding --------------------------------------------------------------

  callsTo(operation: JiraOperation): RecordedJiraCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  /** Every issue, oldest first. */
  issues(): JiraIssueSnapshot[] {
    return [...this.issueStore.values()]
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((issue) => this.snapshot(issue));
  }

  issue(idOrKey: string): JiraIssueSnapshot | undefined {
    const record = this.findIssue(idOrKey);
    return record ? this.snapshot(record) : undefined;
  }

  /** Issues whose indexed request-id property holds `requestId` (read live, not through search), oldest first. */
  issuesByRequestId(requestId: string): JiraIssueSnapshot[] {
    const [indexed] = this.indexedProperties;
    if (!indexed) return [];
    return this.issues().filter((issue) =>
      valuesAtPath(issue.properties[indexed.key], indexed.path).some((value) => value === requestId),
    );
  }

  /** The oldest issue carrying `requestId`, as a test's "which ticket did we get" check. */
  issueByRequestId(requestId: string): JiraIssueSnapshot | undefined {
    return this.issuesByRequestId(requestId)[0];
  }

  /** Transition ids of an issue type's workflow by name, for tests that drive tickets by hand. */
  transitionIds(projectKey: string, issueType: string): Record<string, string> {
    const type = this.projects.get(projectKey)?.issueTypes.find((candidate) => candidate.name === issueType);
    if (!type) throw new Error(`no issue type ${issueType} in ${projectKey}`);
    return Object.fromEntries(
      type.workflow.transitions.map((transition) => [transition.name, transition.id]),
    );
  }

  /** Puts an issue in place without a call, as if someone created it in the UI. */
  seedIssue(seed: JiraSeedIssue): JiraIssueSnapshot {
    const project = this.projects.get(seed.projectKey);
    if (!project) throw new Error(`unknown project ${seed.projectKey}`);
    const issueType = project.issueTypes.find((type) => type.name === seed.issueType);
    if (!issueType) throw new Error(`no issue type ${seed.issueType} in ${seed.projectKey}`);
    if (seed.status && !issueType.workflow.statuses.has(seed.status)) {
      throw new Error(`no status ${seed.status} in workflow ${issueType.workflow.name}`);
    }
    const issue = this.insertIssue(project, issueType, {
      summary: seed.summary,
      description: seed.description ?? null,
      labels: seed.labels ?? [],
      reporterAccountId: this.appUser.accountId,
    });
    if (seed.status) issue.statusName = seed.status;
    for (const [key, value] of Object.entries(seed.properties ?? {}))
      issue.properties.set(key, structuredClone(value));
    this.reindex(issue);
    return this.snapshot(issue);
  }

  /**
   * Forgets calls, issues, pending failures, webhook deliveries and webhooks not sent yet (attempts
   * in flight are abandoned); keeps users, projects, workflows (and so their transition ids) and
   * webhook registrations. Issue ids keep growing across resets, as they would on a real site.
   */
  reset(): void {
    this.calls.length = 0;
    this.issueStore.clear();
    this.failures = [];
    this.webhooks.reset();
    for (const project of this.projects.values()) project.nextIssueNumber = 1;
  }

  // ---- people in the UI ----------------------------------------------------------------------

  /**
   * A person moves the issue in the UI: checks the transition (by name) is available from the
   * current status, applies it, records who did it, and fires jira:issue_updated with a status
   * changelog authored by that person. Project permissions are the app user's and do not apply.
   * Throws for an unknown or deactivated account, an unknown issue or an unavailable transition.
   */
  transitionAs(issueIdOrKey: string, accountId: string, transitionName: string): JiraIssueSnapshot {
    const user = this.person(accountId);
    const issue = this.findIssue(issueIdOrKey);
    if (!issue) throw new Error(`jira emulator: no issue ${issueIdOrKey}`);
    const available = this.availableTransitions(issue);
    const chosen = available.find((transition) => transition.name === transitionName);
    if (!chosen) {
      const names = available.map((transition) => `'${transition.name}'`).join(', ') || 'none';
      throw new Error(
        `jira emulator: ${user.displayName} cannot '${transitionName}' ${issue.key} from '${issue.statusName}' (available: ${names})`,
      );
    }
    this.applyTransition(issue, chosen, user.accountId);
    return this.snapshot(issue);
  }

  /**
   * A person comments in the UI. `body` is an ADF document, or a string made into one paragraph per
   * line. Fires jira:issue_updated (`issue_commented`, with the comment and no changelog) and
   * comment_created. Throws for an unknown or deactivated account, an unknown issue or a bad body.
   */
  commentAs(issueIdOrKey: string, accountId: string, body: unknown): void {
    const user = this.person(accountId);
    const issue = this.findIssue(issueIdOrKey);
    if (!issue) throw new Error(`jira emulator: no issue ${issueIdOrKey}`);
    const document = typeof body === 'string' ? adfFromText(body) : body;
    if (document === undefined || !isAdfDocument(document)) {
      throw new Error('jira emulator: a comment body must be non-empty text or an Atlassian Document');
    }
    this.insertComment(issue, document, user.accountId);
  }

  // ---- webhooks ------------------------------------------------------------------------------

  /** An admin webhook, as registered on Settings → System → WebHooks. Ids are "1", "2", ... */
  registerWebhook(registration: JiraWebhookRegistration): { id: string } {
    return this.webhooks.register(registration);
  }

  /** Removes a registration; deliveries already made stay recorded. False when there was none. */
  unregisterWebhook(id: string): boolean {
    return this.webhooks.unregister(id);
  }

  /** Resolves once every queued/in-flight delivery (with its retries) has finished. In 'manual' mode it sends nothing pending. */
  flushWebhooks(): Promise<void> {
    return this.webhooks.flush();
  }

  /** In 'manual' mode: events waiting to be sent (one entry per webhook), oldest first. */
  pendingWebhooks(): JiraPendingWebhook[] {
    return this.webhooks.pending();
  }

  /** In 'manual' mode: sends the pending events in the given order ('fifo' default, 'lifo' for out-of-order), one at a time with retries; resolves when done. */
  deliverWebhooks(options: { order?: 'fifo' | 'lifo' } = {}): Promise<void> {
    return this.webhooks.deliver(options.order ?? 'fifo');
  }

  /**
   * Sends an already-sent event again, same identifier and same body (Jira's at-least-once
   * duplicates), as one more attempt: it carries X-Atlassian-Webhook-Retry like a retry. No retries
   * of its own. Resolves with the receiver's status. Throws for an unknown or unsent identifier.
   */
  redeliverWebhook(identifier: string): Promise<number | 'network_error'> {
    return this.webhooks.redeliver(identifier);
  }

  /** Every attempt made, in the order they were made. */
  webhookDeliveries(): JiraWebhookDelivery[] {
    return this.webhooks.deliveries();
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = lowerCaseHeaders(req);
    const routed = matchRoute(method, url.pathname);
    const query: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
    const call: RecordedJiraCall = {
      operation: routed.route?.operation,
      method,
      path: url.pathname,
      template: routed.route?.template,
      pathParams: routed.params,
      query,
      rawQuery: url.search.replace(/^\?/, ''),
      body: parseJson(rawBody),
      rawBody,
      headers,
      at: this.clock.now(),
      injected: false,
      response: { status: 0, body: undefined, headers: {} },
    };
    this.calls.push(call);

    const delay = typeof this.latency === 'function' ? this.latency(call) : (this.latency ?? 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    const failure = this.takeFailure(call);
    let reply: Reply;
    if (failure && !failure.afterHandling) {
      if (failure.dropConnection) {
        call.injected = true;
        call.response = { status: 0, body: undefined, headers: {} };
        req.socket.destroy();
        return;
      }
      reply = failureReply(failure);
      call.injected = true;
    } else {
      reply = this.answer(call, routed, rawBody);
      if (failure) {
        call.injected = true;
        if (failure.dropConnection) {
          req.socket.destroy();
          return;
        }
        reply = failureReply(failure);
      }
    }
    this.send(res, call, reply);
  }

  private send(res: ServerResponse, call: RecordedJiraCall, reply: Reply): void {
    const headers: Record<string, string> = { ...reply.headers };
    let payload: string | undefined;
    if (reply.text !== undefined) {
      headers['content-type'] ??= 'text/plain;charset=UTF-8';
      payload = reply.text;
    } else if (reply.body !== undefined) {
      headers['content-type'] = 'application/json;charset=UTF-8';
      payload = JSON.stringify(reply.body);
    }
    call.response = { status: reply.status, body: reply.text ?? reply.body, headers };
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  private answer(call: RecordedJiraCall, routed: RouteMatch, rawBody: string): Reply {
    if (!routed.route) {
      if (routed.methodNotAllowed) return { status: 405 };
      return errorReply(404, [`jira emulator: no emulated operation for ${call.method} ${call.path}`]);
    }
    const principal = this.authenticate(call.headers.authorization);
    if (principal === 'missing') return errorReply(401, [UNAUTHENTICATED_MESSAGE]);
    if (principal === 'wrong') {
      if (this.unauthorizedBody === 'text') {
        return {
          status: 401,
          text: CLOUD_UNAUTHORIZED_TEXT,
          headers: {
            'www-authenticate': 'OAuth realm="https%3A%2F%2Fjira-emulator.atlassian.net"',
            'x-seraph-loginreason': 'AUTHENTICATED_FAILED',
          },
        };
      }
      return errorReply(401, [CLOUD_UNAUTHORIZED_TEXT]);
    }
    if (call.method === 'POST' || call.method === 'PUT') {
      const contentType = call.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(contentType)) return { status: 415 };
      if (rawBody.trim() === '' || call.body === undefined) {
        return errorReply(400, [
          rawBody.trim() === ''
            ? 'No content to map due to end-of-input'
            : 'Unexpected character in JSON input',
        ]);
      }
    }
    const param = (name: string) => routed.params[name] ?? '';
    switch (routed.route.operation) {
      case 'createIssue':
        return this.createIssue(call.body, principal);
      case 'getIssue':
        return this.getIssue(param('issueIdOrKey'), call.query);
      case 'getIssuePropertyKeys':
        return this.getPropertyKeys(param('issueIdOrKey'));
      case 'getIssueProperty':
        return this.getProperty(param('issueIdOrKey'), param('propertyKey'));
      case 'setIssueProperty':
        return this.setProperty(param('issueIdOrKey'), param('propertyKey'), call.body, rawBody);
      case 'getComments':
        return this.getComments(param('issueIdOrKey'), call.query);
      case 'addComment':
        return this.addComment(param('issueIdOrKey'), call.body, principal);
      case 'getTransitions':
        return this.getTransitions(param('issueIdOrKey'), call.query);
      case 'doTransition':
        return this.doTransition(param('issueIdOrKey'), call.body, principal);
      case 'searchAndReconsileIssuesUsingJql':
        return this.search({
          jql: first(call.query.jql),
          fields: call.query.fields,
          maxResults: first(call.query.maxResults),
          nextPageToken: first(call.query.nextPageToken),
          reconcileIssues: call.query.reconcileIssues?.flatMap((value) => value.split(',')),
          properties: call.query.properties,
        });
      case 'searchAndReconsileIssuesUsingJqlPost':
        return this.searchPost(call.body);
      case 'getUser':
        return this.getUser(first(call.query.accountId));
      case 'getCurrentUser':
        return {
          status: 200,
          body: this.userObject(this.users.get(principal.accountId) ?? this.appUser, true),
        };
      case 'searchForIssuesUsingJql':
      case 'searchForIssuesUsingJqlPost':
        return errorReply(410, [SEARCH_REMOVED_MESSAGE]);
    }
  }

  private authenticate(header: string | undefined): Principal | 'missing' | 'wrong' {
    if (!header) return 'missing';
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'wrong';
      const email = decoded.slice(0, colon);
      const token = decoded.slice(colon + 1);
      const ok = email.toLowerCase() === this.appUser.emailAddress.toLowerCase() && token === this.apiToken;
      return ok ? { accountId: this.appUser.accountId } : 'wrong';
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer?.[1]) {
      return this.accessToken !== undefined && bearer[1] === this.accessToken
        ? { accountId: this.appUser.accountId }
        : 'wrong';
    }
    return 'wrong';
  }

  private takeFailure(call: RecordedJiraCall): JiraFailure | undefined {
    const index = this.failures.findIndex(({ matcher }) =>
      matcher === '*' ? true : typeof matcher === 'function' ? matcher(call) : matcher === call.operation,
    );
    const pending = this.failures[index];
    if (!pending) return undefined;
    pending.remaining -= 1;
    if (pending.remaining === 0) this.failures.splice(index, 1);
    return pending.failure;
  }

  // ---- issues ------------------------------------------------------------------------------

  private createIssue(body: unknown, principal: Principal): Reply {
    if (!isRecord(body) || !isRecord(body.fields)) {
      return errorReply(400, [], { fields: 'Field "fields" is required.' });
    }
    const fields = body.fields;
    const errors: Record<string, string> = {};
    for (const name of Object.keys(fields)) {
      if (!SETTABLE_FIELDS.has(name)) {
        errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
      }
    }
    if (body.update !== undefined && !(isRecord(body.update) && Object.keys(body.update).length === 0)) {
      errors.update = 'The emulator does not take `update` operations on create; use `fields`.';
    }
    if (body.transition !== undefined)
      errors.transition = 'The emulator does not take a transition on create.';

    const project = this.projectFrom(fields.project);
    if (!project) errors.project = 'Specify a valid project ID or key';
    let issueType: IssueTypeRecord | undefined;
    if (project) {
      issueType = issueTypeFrom(project, fields.issuetype);
      if (!issueType) errors.issuetype = 'Specify a valid issue type';
    }
    const summary = fields.summary;
    if (typeof summary !== 'string' || summary.trim() === '') {
      errors.summary = 'You must specify a summary of the issue.';
    } else if (summary.length > MAX_SUMMARY_LENGTH) {
      errors.summary = `Summary must be less than ${MAX_SUMMARY_LENGTH} characters.`;
    } else if (/[\r\n]/.test(summary)) {
      errors.summary = 'The summary is invalid because it contains newline characters.';
    }
    if (
      fields.description !== undefined &&
      fields.description !== null &&
      !isAdfDocument(fields.description)
    ) {
      errors.description =
        'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    }
    const labels = fields.labels ?? [];
    if (!Array.isArray(labels) || labels.some((label) => typeof label !== 'string')) {
      errors.labels = 'Operation value must be an array of strings';
    } else {
      const bad = labels.find((label: string) => /\s/.test(label));
      const long = labels.find((label: string) => label.length > MAX_LABEL_LENGTH);
      if (bad !== undefined) errors.labels = `The label '${bad}' contains spaces which is invalid.`;
      else if (long !== undefined)
        errors.labels = `The label must not exceed ${MAX_LABEL_LENGTH} characters.`;
    }
    const properties = body.properties ?? [];
    if (
      !Array.isArray(properties) ||
      properties.some((property) => !isRecord(property) || typeof property.key !== 'string')
    ) {
      errors.properties = 'Properties must be a list of {key, value}.';
    }
    if (Object.keys(errors).length > 0) return errorReply(400, [], errors);
    if (!project || !issueType || typeof summary !== 'string') return errorReply(400, ['unreachable']);
    if (!project.permissions.create || !project.permissions.browse) {
      return errorReply(403, ['You do not have permission to create issues in this project.']);
    }
    const issue = this.insertIssue(project, issueType, {
      summary,
      description: fields.description ?? null,
      labels: [...new Set(labels as string[])],
      reporterAccountId: this.appUser.accountId,
    });
    for (const property of properties as { key: string; value: unknown }[]) {
      issue.properties.set(property.key, structuredClone(property.value));
    }
    this.reindex(issue);
    if (this.webhooks.wants('jira:issue_created')) {
      this.fire('jira:issue_created', issue, {
        timestamp: issue.created.getTime(),
        webhookEvent: 'jira:issue_created',
        issue_event_type_name: 'issue_created',
        user: this.webhookUser(principal.accountId),
        issue: this.webhookIssue(issue),
      });
    }
    return { status: 201, body: { id: issue.id, key: issue.key, self: this.issueSelf(issue) } };
  }

  private insertIssue(
    project: ProjectRecord,
    issueType: IssueTypeRecord,
    content: { summary: string; description: unknown; labels: string[]; reporterAccountId: string },
  ): IssueRecord {
    const now = this.clock.now();
    const issue: IssueRecord = {
      id: String(this.nextIssueId++),
      key: `${project.key}-${project.nextIssueNumber++}`,
      project,
      issueType,
      summary: content.summary,
      description: structuredClone(content.description),
      labels: content.labels,
      statusName: issueType.workflow.initial,
      reporterAccountId: content.reporterAccountId,
      properties: new Map(),
      comments: [],
      history: [],
      created: now,
      updated: now,
      indexed: undefined,
      pendingIndex: [],
    };
    this.issueStore.set(issue.id, issue);
    return issue;
  }

  private getIssue(idOrKey: string, query: Record<string, string[]>): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const selected = selectFields(query.fields, 'all');
    if (selected.unknown) return errorReply(400, [], { fields: selected.unknown });
    const body: Record<string, unknown> = {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: this.issueSelf(issue),
      key: issue.key,
      fields: this.fieldsOf(issue, selected.fields),
    };
    const properties = this.requestedProperties(issue.properties, query.properties);
    if (properties) body.properties = properties;
    return { status: 200, body };
  }

  private getPropertyKeys(idOrKey: string): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    return {
      status: 200,
      body: {
        keys: [...issue.properties.keys()].map((key) => ({
          key,
          self: `${this.issueSelf(issue)}/properties/${encodeURIComponent(key)}`,
        })),
      },
    };
  }

  private getProperty(idOrKey: string, rawKey: string): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const key = decodeURIComponent(rawKey);
    if (!issue.properties.has(key))
      return errorReply(404, [`The property with key '${key}' does not exist.`]);
    return { status: 200, body: { key, value: structuredClone(issue.properties.get(key)) } };
  }

  private setProperty(idOrKey: string, rawKey: string, value: unknown, rawBody: string): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const key = decodeURIComponent(rawKey);
    if (key.length > MAX_PROPERTY_KEY_LENGTH) {
      return errorReply(400, [
        `The property key cannot be longer than ${MAX_PROPERTY_KEY_LENGTH} characters.`,
      ]);
    }
    if (Buffer.byteLength(rawBody) > MAX_PROPERTY_VALUE_LENGTH) {
      return errorReply(400, [
        `The property value cannot be longer than ${MAX_PROPERTY_VALUE_LENGTH} bytes.`,
      ]);
    }
    if (!issue.project.permissions.edit) {
      return errorReply(403, ['You do not have permission to edit issues in this project.']);
    }
    const existed = issue.properties.has(key);
    issue.properties.set(key, structuredClone(value));
    issue.updated = this.clock.now();
    this.reindex(issue);
    return { status: existed ? 200 : 201 };
  }

  private getComments(idOrKey: string, query: Record<string, string[]>): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const orderBy = first(query.orderBy);
    if (orderBy !== undefined && !['created', '-created', '+created'].includes(orderBy)) {
      return errorReply(400, ['orderBy must be created, -created or +created.']);
    }
    const startAt = Number(first(query.startAt) ?? 0);
    const maxResults = Number(first(query.maxResults) ?? 100);
    const ordered = orderBy === '-created' ? [...issue.comments].reverse() : issue.comments;
    return {
      status: 200,
      body: {
        startAt,
        maxResults,
        total: issue.comments.length,
        comments: ordered
          .slice(startAt, startAt + maxResults)
          .map((comment) => this.commentObject(issue, comment)),
      },
    };
  }

  private addComment(idOrKey: string, body: unknown, principal: Principal): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    if (!isRecord(body) || body.body === undefined || body.body === null || body.body === '') {
      return errorReply(400, [], { comment: 'Comment body can not be empty!' });
    }
    if (!isAdfDocument(body.body)) {
      return errorReply(400, [], {
        comment: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)',
      });
    }
    if (!issue.project.permissions.comment) {
      return errorReply(403, ['You do not have permission to comment on this issue.']);
    }
    const comment = this.insertComment(issue, body.body, principal.accountId);
    return { status: 201, body: this.commentObject(issue, comment) };
  }

  private insertComment(issue: IssueRecord, body: unknown, accountId: string): CommentRecord {
    const comment: CommentRecord = {
      id: String(this.nextCommentId++),
      body: structuredClone(body),
      authorAccountId: accountId,
      created: this.clock.now(),
    };
    issue.comments.push(comment);
    issue.updated = comment.created;
    this.reindex(issue);
    const timestamp = comment.created.getTime();
    if (this.webhooks.wants('jira:issue_updated')) {
      this.fire('jira:issue_updated', issue, {
        timestamp,
        webhookEvent: 'jira:issue_updated',
        issue_event_type_name: 'issue_commented',
        user: this.webhookUser(accountId),
        issue: this.webhookIssue(issue),
        comment: this.webhookComment(issue, comment),
      });
    }
    if (this.webhooks.wants('comment_created')) {
      // Jira puts no `user` on comment events: the author is the comment's.
      this.fire('comment_created', issue, {
        timestamp,
        webhookEvent: 'comment_created',
        comment: this.webhookComment(issue, comment),
        issue: this.webhookIssue(issue, ['summary', 'issuetype', 'project', 'status']),
      });
    }
    return comment;
  }

  private getTransitions(idOrKey: string, query: Record<string, string[]>): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    // Without the Transition issues permission Jira lists no transitions rather than refusing.
    const available = issue.project.permissions.transition ? this.availableTransitions(issue) : [];
    const wanted = first(query.transitionId);
    const listed =
      wanted === undefined ? available : available.filter((transition) => transition.id === wanted);
    const workflow = issue.issueType.workflow;
    return {
      status: 200,
      body: {
        expand: 'transitions',
        transitions: listed.map((transition) => ({
          id: transition.id,
          name: transition.name,
          to: this.statusObject(workflow.statuses.get(transition.to)),
          hasScreen: false,
          isGlobal: transition.from === 'any',
          isInitial: false,
          isAvailable: true,
          isConditional: false,
          isLooped: false,
        })),
      },
    };
  }

  private doTransition(idOrKey: string, body: unknown, principal: Principal): Reply {
    const issue = this.visibleIssue(idOrKey);
    if (!issue) return errorReply(404, [ISSUE_NOT_FOUND_MESSAGE]);
    const transition = isRecord(body) && isRecord(body.transition) ? body.transition : undefined;
    const id = transition?.id;
    if (id === undefined || id === null || id === '') {
      return errorReply(400, ["Missing 'transition' identifier"]);
    }
    if (!issue.project.permissions.transition) {
      return errorReply(400, ['You do not have permission to transition this issue.']);
    }
    const chosen = this.availableTransitions(issue).find((candidate) => candidate.id === String(id));
    if (!chosen) return errorReply(400, [`Transition id '${String(id)}' is not valid for this issue.`]);
    this.applyTransition(issue, chosen, principal.accountId);
    return { status: 204 };
  }

  /** Moves the issue, records who did it, and tells the webhooks, whoever asked (API or UI). */
  private applyTransition(issue: IssueRecord, transition: TransitionRecord, accountId: string): void {
    const workflow = issue.issueType.workflow;
    const from = issue.statusName;
    issue.statusName = transition.to;
    issue.updated = this.clock.now();
    issue.history.push({
      transitionId: transition.id,
      from,
      to: transition.to,
      at: issue.updated,
      accountId,
    });
    this.reindex(issue);
    if (!this.webhooks.wants('jira:issue_updated')) return;
    const fromStatus = workflow.statuses.get(from);
    const toStatus = workflow.statuses.get(transition.to);
    this.fire('jira:issue_updated', issue, {
      timestamp: issue.updated.getTime(),
      webhookEvent: 'jira:issue_updated',
      // A workflow transition without an event of its own fires Jira's Generic Event.
      issue_event_type_name: 'issue_generic',
      user: this.webhookUser(accountId),
      issue: this.webhookIssue(issue),
      changelog: {
        id: String(this.nextChangelogId++),
        items: [
          {
            field: 'status',
            fieldtype: 'jira',
            fieldId: 'status',
            from: fromStatus?.id ?? '',
            fromString: from,
            to: toStatus?.id ?? '',
            toString: transition.to,
          },
        ],
      },
    });
  }

  private availableTransitions(issue: IssueRecord): TransitionRecord[] {
    return issue.issueType.workflow.transitions.filter((transition) =>
      transition.from === 'any' ? transition.to !== issue.statusName : transition.from.has(issue.statusName),
    );
  }

  // ---- search --------------------------------------------------------------------------------

  private searchPost(body: unknown): Reply {
    if (!isRecord(body)) return errorReply(400, ['The request body must be a JSON object.']);
    const known = new Set([
      'jql',
      'fields',
      'maxResults',
      'nextPageToken',
      'expand',
      'properties',
      'fieldsByKeys',
      'reconcileIssues',
    ]);
    const unknown = Object.keys(body).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      return errorReply(400, [`Unrecognized field "${unknown[0]}" in the search request.`]);
    }
    const stringList = (value: unknown) =>
      Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
    return this.search({
      jql: typeof body.jql === 'string' ? body.jql : undefined,
      fields: stringList(body.fields),
      maxResults: body.maxResults === undefined ? undefined : String(body.maxResults),
      nextPageToken: typeof body.nextPageToken === 'string' ? body.nextPageToken : undefined,
      reconcileIssues: Array.isArray(body.reconcileIssues) ? body.reconcileIssues.map(String) : undefined,
      properties: stringList(body.properties),
    });
  }

  private search(request: {
    jql: string | undefined;
    fields: string[] | undefined;
    maxResults: string | undefined;
    nextPageToken: string | undefined;
    reconcileIssues: string[] | undefined;
    properties: string[] | undefined;
  }): Reply {
    const jql = request.jql ?? '';
    let query: JqlQuery;
    try {
      query = parseJql(jql);
    } catch (error) {
      return errorReply(400, [error instanceof Error ? error.message : String(error)]);
    }
    if (query.clauses.length === 0) {
      return errorReply(400, [
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      ]);
    }
    const clauseProblem = this.clauseProblem(query.clauses);
    if (clauseProblem) return errorReply(400, [clauseProblem]);

    const selected = selectFields(request.fields, 'id');
    if (selected.unknown) return errorReply(400, [selected.unknown]);
    const idsOnly = selected.fields.length === 0;
    const limit = idsOnly ? MAX_RESULTS_IDS_ONLY : MAX_RESULTS_WITH_FIELDS;
    const requested = request.maxResults === undefined ? DEFAULT_MAX_RESULTS : Number(request.maxResults);
    if (!Number.isInteger(requested) || requested < 0) {
      return errorReply(400, [`'${request.maxResults}' is not a valid value for maxResults.`]);
    }
    const pageSize = Math.min(requested, limit);
    const reconcile = new Set(request.reconcileIssues ?? []);
    if (reconcile.size > MAX_RECONCILE_ISSUES) {
      return errorReply(400, [`reconcileIssues accepts at most ${MAX_RECONCILE_ISSUES} issue ids.`]);
    }

    this.settleIndex();
    const views: { view: IndexedView; issue: IssueRecord }[] = [];
    for (const issue of this.issueStore.values()) {
      if (!issue.project.permissions.browse) continue;
      // reconcileIssues trades the index for a read of the issue itself: read-after-write for those ids.
      const view = reconcile.has(issue.id) ? this.viewOf(issue) : issue.indexed;
      if (view && query.clauses.every((clause) => this.matches(clause, view))) views.push({ view, issue });
    }
    views.sort((a, b) => compareViews(a.view, b.view, query.orderBy));

    const fingerprint = createHash('sha256').update(jql).digest('base64url').slice(0, 12);
    let offset = 0;
    if (request.nextPageToken !== undefined) {
      const decoded = decodePageToken(request.nextPageToken);
      if (!decoded || decoded.fingerprint !== fingerprint) {
        return errorReply(400, ['The provided next page token is invalid or expired.']);
      }
      offset = decoded.offset;
    }
    const page = views.slice(offset, offset + pageSize);
    const nextOffset = offset + page.length;
    const isLast = nextOffset >= views.length;
    const body: Record<string, unknown> = {
      issues: page.map(({ issue }) => {
        if (idsOnly) return { id: issue.id };
        const entry: Record<string, unknown> = {
          expand: '',
          id: issue.id,
          self: this.issueSelf(issue),
          key: issue.key,
          fields: this.fieldsOf(issue, selected.fields),
        };
        const properties = this.requestedProperties(issue.properties, request.properties);
        if (properties) entry.properties = properties;
        return entry;
      }),
      isLast,
    };
    if (!isLast) body.nextPageToken = encodePageToken({ offset: nextOffset, fingerprint });
    return { status: 200, body };
  }

  private clauseProblem(clauses: JqlClause[]): string | undefined {
    for (const clause of clauses) {
      if (clause.field.kind === 'property') {
        const { key, path } = clause.field;
        const indexed = this.indexedProperties.some(
          (property) => property.key === key && property.path === path,
        );
        if (!indexed)
          return `Field '${clause.field.text}' does not exist or you do not have permission to view it.`;
        continue;
      }
      if (clause.field.name === 'project') {
        for (const value of clause.values) {
          if (!this.projectByReference(value))
            return `The value '${value}' does not exist for the field 'project'.`;
        }
      }
    }
    return undefined;
  }

  private matches(clause: JqlClause, view: IndexedView): boolean {
    const actual = this.valuesFor(clause.field, view).map((value) => value.toLowerCase());
    const hit = clause.values.some((wanted) => actual.includes(wanted.toLowerCase()));
    return clause.negated ? !hit : hit;
  }

  private valuesFor(field: JqlField, view: IndexedView): string[] {
    if (field.kind === 'property') {
      return valuesAtPath(view.properties[field.key], field.path)
        .filter(
          (value) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean',
        )
        .map(String);
    }
    switch (field.name) {
      case 'project':
        return [view.projectKey, view.projectId, view.projectName];
      case 'key':
        return [view.key];
      case 'id':
        return [view.id];
      case 'status':
        return [view.statusName, view.statusId];
      case 'labels':
        return view.labels;
      case 'issuetype':
        return [view.issueTypeName, view.issueTypeId];
    }
  }

  private settleIndex(): void {
    const now = this.clock.now().getTime();
    for (const issue of this.issueStore.values()) {
      while (issue.pendingIndex[0] && issue.pendingIndex[0].visibleAt <= now) {
        issue.indexed = issue.pendingIndex.shift()?.view;
      }
    }
  }

  private reindex(issue: IssueRecord): void {
    const view = this.viewOf(issue);
    if (this.searchIndexLagMs <= 0) {
      issue.indexed = view;
      issue.pendingIndex = [];
      return;
    }
    issue.pendingIndex.push({ view, visibleAt: this.clock.now().getTime() + this.searchIndexLagMs });
  }

  private viewOf(issue: IssueRecord): IndexedView {
    return {
      id: issue.id,
      key: issue.key,
      projectId: issue.project.id,
      projectKey: issue.project.key,
      projectName: issue.project.name,
      issueTypeId: issue.issueType.id,
      issueTypeName: issue.issueType.name,
      statusId: issue.issueType.workflow.statuses.get(issue.statusName)?.id ?? '',
      statusName: issue.statusName,
      labels: [...issue.labels],
      summary: issue.summary,
      properties: structuredClone(Object.fromEntries(issue.properties)),
      created: issue.created.getTime(),
      updated: issue.updated.getTime(),
    };
  }

  // ---- users -------------------------------------------------------------------------------

  private getUser(accountId: string | undefined): Reply {
    if (!accountId) return errorReply(400, ['The query parameter accountId is required.']);
    const user = this.users.get(accountId);
    if (!user)
      return errorReply(404, ['Specified user does not exist or you do not have required permissions']);
    return { status: 200, body: this.userObject(user, user.emailVisible === true) };
  }

  /**
   * A user as /user and /myself return it (`User`), or, with `embedded`, as it appears inside an
   * issue or comment (`UserDetails`, which has no locale).
   */
  private userObject(user: JiraUserFixture, withEmail: boolean, embedded = false): Record<string, unknown> {
    const avatar = (size: number) =>
      `${this.url}/secure/useravatar?size=${size}&accountId=${encodeURIComponent(user.accountId)}`;
    const body: Record<string, unknown> = {
      self: `${this.url}/rest/api/3/user?accountId=${encodeURIComponent(user.accountId)}`,
      accountId: user.accountId,
      accountType: user.accountType ?? 'atlassian',
      avatarUrls: { '16x16': avatar(16), '24x24': avatar(24), '32x32': avatar(32), '48x48': avatar(48) },
      displayName: user.displayName,
      active: user.active ?? true,
      timeZone: user.timeZone ?? 'Etc/UTC',
    };
    if (!embedded) body.locale = 'en_US';
    if (withEmail && user.emailAddress) body.emailAddress = user.emailAddress;
    return body;
  }

  // ---- representations -----------------------------------------------------------------------

  private fieldsOf(issue: IssueRecord, fields: IssueField[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      switch (field) {
        case 'summary':
          out.summary = issue.summary;
          break;
        case 'description':
          out.description = structuredClone(issue.description);
          break;
        case 'labels':
          out.labels = [...issue.labels];
          break;
        case 'status':
          out.status = this.statusObject(issue.issueType.workflow.statuses.get(issue.statusName));
          break;
        case 'issuetype':
          out.issuetype = {
            self: `${this.url}/rest/api/3/issuetype/${issue.issueType.id}`,
            id: issue.issueType.id,
            name: issue.issueType.name,
            description: '',
            subtask: false,
            hierarchyLevel: 0,
          };
          break;
        case 'project':
          out.project = {
            self: `${this.url}/rest/api/3/project/${issue.project.id}`,
            id: issue.project.id,
            key: issue.project.key,
            name: issue.project.name,
            projectTypeKey: 'software',
            simplified: false,
          };
          break;
        case 'created':
          out.created = jiraDate(issue.created);
          break;
        case 'updated':
          out.updated = jiraDate(issue.updated);
          break;
        case 'reporter':
        case 'creator': {
          const user = this.users.get(issue.reporterAccountId);
          out[field] = user ? this.userObject(user, false, true) : null;
          break;
        }
        case 'comment':
          out.comment = {
            comments: issue.comments.map((comment) => this.commentObject(issue, comment)),
            self: `${this.issueSelf(issue)}/comment`,
            maxResults: issue.comments.length,
            total: issue.comments.length,
            startAt: 0,
          };
          break;
      }
    }
    return out;
  }

  private statusObject(status: StatusRecord | undefined): Record<string, unknown> {
    if (!status) return {};
    const category = STATUS_CATEGORIES[status.category];
    return {
      self: `${this.url}/rest/api/3/status/${status.id}`,
      description: '',
      iconUrl: `${this.url}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: { self: `${this.url}/rest/api/3/statuscategory/${category.id}`, ...category },
    };
  }

  private commentObject(issue: IssueRecord, comment: CommentRecord): Record<string, unknown> {
    const author = this.users.get(comment.authorAccountId);
    const authorObject = author
      ? this.userObject(author, false, true)
      : { accountId: comment.authorAccountId };
    return {
      self: `${this.issueSelf(issue)}/comment/${comment.id}`,
      id: comment.id,
      author: authorObject,
      body: structuredClone(comment.body),
      updateAuthor: authorObject,
      created: jiraDate(comment.created),
      updated: jiraDate(comment.created),
      jsdPublic: true,
    };
  }

  private requestedProperties(
    properties: Map<string, unknown>,
    requested: string[] | undefined,
  ): Record<string, unknown> | undefined {
    const keys = requested?.flatMap((value) => value.split(',')).map((key) => key.trim()) ?? [];
    if (keys.length === 0) return undefined;
    const all = keys.includes('*all');
    const out: Record<string, unknown> = {};
    for (const [key, value] of properties) if (all || keys.includes(key)) out[key] = structuredClone(value);
    return out;
  }

  private issueSelf(issue: IssueRecord): string {
    return `${this.url}/rest/api/3/issue/${issue.id}`;
  }

  // ---- webhook payloads ------------------------------------------------------------------------

  private fire(event: JiraWebhookEvent, issue: IssueRecord, payload: Record<string, unknown>): void {
    this.webhooks.emit(event, payload, issue.key);
  }

  /**
   * Webhooks carry the REST v2 representation, as Jira Cloud's do: `self` links under
   * /rest/api/2 and rich text (description, comment bodies) as wiki-markup strings, not ADF.
   */
  private webhookIssue(
    issue: IssueRecord,
    fields: IssueField[] = [...ISSUE_FIELDS],
  ): Record<string, unknown> {
    const out = this.fieldsOf(issue, fields);
    if ('description' in out)
      out.description = issue.description === null ? null : adfToWiki(issue.description);
    if (isRecord(out.comment) && Array.isArray(out.comment.comments)) {
      out.comment.comments = issue.comments.map((comment) => this.webhookComment(issue, comment));
    }
    return asRestV2({ id: issue.id, self: this.issueSelf(issue), key: issue.key, fields: out }) as Record<
      string,
      unknown
    >;
  }

  private webhookComment(issue: IssueRecord, comment: CommentRecord): Record<string, unknown> {
    const object = this.commentObject(issue, comment);
    object.body = adfToWiki(comment.body);
    return asRestV2(object) as Record<string, unknown>;
  }

  /** The user who made the change, as webhooks embed it: no email, no locale. */
  private webhookUser(accountId: string): Record<string, unknown> {
    const user = this.users.get(accountId);
    return asRestV2(user ? this.userObject(user, false, true) : { accountId }) as Record<string, unknown>;
  }

  private person(accountId: string): JiraUserFixture {
    const user = this.users.get(accountId);
    if (!user) throw new Error(`jira emulator: no user with accountId ${accountId}`);
    if (user.active === false) throw new Error(`jira emulator: ${user.displayName} is deactivated`);
    return user;
  }

  private snapshot(issue: IssueRecord): JiraIssueSnapshot {
    return structuredClone({
      id: issue.id,
      key: issue.key,
      projectKey: issue.project.key,
      issueType: issue.issueType.name,
      summary: issue.summary,
      description: issue.description,
      labels: issue.labels,
      status: issue.statusName,
      reporterAccountId: issue.reporterAccountId,
      properties: Object.fromEntries(issue.properties),
      comments: issue.comments,
      history: issue.history,
      created: issue.created,
      updated: issue.updated,
    });
  }

  // ---- lookups --------------------------------------------------------------------------------

  /** By id or key; keys case-insensitively, as Jira does. */
  private findIssue(idOrKey: string): IssueRecord | undefined {
    const decoded = decodeURIComponent(idOrKey);
    const byId = this.issueStore.get(decoded);
    if (byId) return byId;
    const upper = decoded.toUpperCase();
    for (const issue of this.issueStore.values()) if (issue.key === upper) return issue;
    return undefined;
  }

  /** Jira answers "does not exist" for issues the caller may not browse, so the two look alike. */
  private visibleIssue(idOrKey: string): IssueRecord | undefined {
    const issue = this.findIssue(idOrKey);
    return issue && issue.project.permissions.browse ? issue : undefined;
  }

  private projectFrom(reference: unknown): ProjectRecord | undefined {
    if (!isRecord(reference)) return undefined;
    if (typeof reference.key === 'string') return this.projects.get(reference.key);
    if (typeof reference.id === 'string' || typeof reference.id === 'number') {
      return [...this.projects.values()].find((project) => project.id === String(reference.id));
    }
    return undefined;
  }

  private projectByReference(value: string): ProjectRecord | undefined {
    const lower = value.toLowerCase();
    return [...this.projects.values()].find(
      (project) =>
        project.key.toLowerCase() === lower || project.id === value || project.name.toLowerCase() === lower,
    );
  }
}

export async function startJiraEmulator(options: JiraEmulatorOptions = {}): Promise<JiraEmulator> {
  const emulator = new JiraEmulator(options);
  await emulator.start();
  return emulator;
}

// ---- JQL -----------------------------------------------------------------------------------

type JqlField =
  | { kind: 'system'; name: 'project' | 'key' | 'id' | 'status' | 'labels' | 'issuetype'; text: string }
  | { kind: 'property'; key: string; path: string; text: string };

interface JqlClause {
  field: JqlField;
  negated: boolean;
  values: string[];
}

interface JqlOrder {
  field: 'created' | 'updated' | 'key' | 'id';
  direction: 'ASC' | 'DESC';
}

interface JqlQuery {
  clauses: JqlClause[];
  orderBy: JqlOrder[];
}

type JqlToken =
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'op'; text: string }
  | { kind: 'punct'; text: '(' | ')' | ',' };

const SYSTEM_FIELDS: Record<string, Extract<JqlField, { kind: 'system' }>['name']> = {
  project: 'project',
  key: 'key',
  issuekey: 'key',
  id: 'id',
  status: 'status',
  labels: 'labels',
  issuetype: 'issuetype',
  type: 'issuetype',
};

const KNOWN_UNSUPPORTED_FIELDS = new Set([
  'summary',
  'description',
  'text',
  'assignee',
  'reporter',
  'created',
  'updated',
  'priority',
  'resolution',
  'comment',
  'sprint',
]);

/**
 * The JQL jit-access needs: clauses joined by AND on project, key, id, status, labels, issue type
 * and indexed entity properties (`issue.property[key].path`), with =, !=, IN and NOT IN, and an
 * ORDER BY. Anything else is refused with a 400 that names the emulator, not mistaken for a match.
 */
function parseJql(jql: string): JqlQuery {
  const tokens = tokenizeJql(jql);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const isWord = (token: JqlToken | undefined, word: string) =>
    token?.kind === 'word' && token.text.toLowerCase() === word;
  const clauses: JqlClause[] = [];
  const orderBy: JqlOrder[] = [];

  const value = (): string => {
    const token = next();
    if (!token || (token.kind !== 'word' && token.kind !== 'string')) {
      throw new Error(
        `Error in the JQL Query: Expecting a value but got '${token?.text ?? 'end of query'}'.`,
      );
    }
    if (token.kind === 'word' && peek()?.text === '(') {
      throw new Error(`jira emulator: JQL functions such as ${token.text}() are not emulated.`);
    }
    return token.text;
  };

  while (position < tokens.length && !isWord(peek(), 'order')) {
    if (clauses.length > 0) {
      const joiner = next();
      if (isWord(joiner, 'or')) throw new Error('jira emulator: OR is not emulated; only AND joins clauses.');
      if (!isWord(joiner, 'and')) {
        throw new Error(
          `Error in the JQL Query: Expecting AND, OR or ORDER BY but got '${joiner?.text ?? ''}'.`,
        );
      }
    }
    const fieldToken = next();
    if (fieldToken?.kind === 'punct' && fieldToken.text === '(') {
      throw new Error('jira emulator: parentheses around clauses are not emulated.');
    }
    if (!fieldToken || (fieldToken.kind !== 'word' && fieldToken.kind !== 'string')) {
      throw new Error(`Error in the JQL Query: Expecting a field name but got '${fieldToken?.text ?? ''}'.`);
    }
    if (isWord(fieldToken, 'not')) throw new Error('jira emulator: NOT before a clause is not emulated.');
    const field = jqlField(fieldToken.text);
    const operator = next();
    let negated = false;
    let values: string[];
    if (operator?.kind === 'op' && (operator.text === '=' || operator.text === '!=')) {
      negated = operator.text === '!=';
      values = [value()];
    } else if (isWord(operator, 'in') || (isWord(operator, 'not') && isWord(peek(), 'in'))) {
      if (isWord(operator, 'not')) {
        negated = true;
        next();
      }
      const open = next();
      if (open?.text !== '(') throw new Error("Error in the JQL Query: Expecting '(' after IN.");
      values = [value()];
      while (peek()?.text === ',') {
        next();
        values.push(value());
      }
      if (next()?.text !== ')')
        throw new Error("Error in the JQL Query: Expecting ')' to close the IN list.");
    } else {
      throw new Error(
        `jira emulator: the operator '${operator?.text ?? ''}' is not emulated (use =, !=, IN, NOT IN).`,
      );
    }
    clauses.push({ field, negated, values });
  }

  if (position < tokens.length) {
    next();
    if (!isWord(next(), 'by')) throw new Error("Error in the JQL Query: Expecting 'by' after 'order'.");
    do {
      if (orderBy.length > 0) next();
      const fieldToken = next();
      const name = fieldToken?.text.toLowerCase();
      const field = name === 'issuekey' ? 'key' : name;
      if (field !== 'created' && field !== 'updated' && field !== 'key' && field !== 'id') {
        throw new Error(`jira emulator: ORDER BY ${fieldToken?.text ?? ''} is not emulated.`);
      }
      let direction: 'ASC' | 'DESC' = 'ASC';
      if (isWord(peek(), 'asc') || isWord(peek(), 'desc'))
        direction = next()?.text.toUpperCase() as 'ASC' | 'DESC';
      orderBy.push({ field, direction });
    } while (peek()?.text === ',');
    if (position < tokens.length) {
      throw new Error(`Error in the JQL Query: Unexpected '${peek()?.text ?? ''}' after ORDER BY.`);
    }
  }
  return { clauses, orderBy };
}

function jqlField(text: string): JqlField {
  const property = /^issue\.property\[([^\]]+)\]\.(.+)$/i.exec(text);
  if (property?.[1] && property[2]) return { kind: 'property', key: property[1], path: property[2], text };
  const name = SYSTEM_FIELDS[text.toLowerCase()];
  if (name) return { kind: 'system', name, text };
  if (KNOWN_UNSUPPORTED_FIELDS.has(text.toLowerCase())) {
    throw new Error(`jira emulator: JQL on '${text}' is not emulated.`);
  }
  throw new Error(`Field '${text}' does not exist or you do not have permission to view it.`);
}

function tokenizeJql(jql: string): JqlToken[] {
  const tokens: JqlToken[] = [];
  let index = 0;
  while (index < jql.length) {
    const char = jql[index] ?? '';
    if (/\s/.test(char)) {
      index++;
    } else if (char === '"' || char === "'") {
      let text = '';
      index++;
      while (index < jql.length && jql[index] !== char) {
        if (jql[index] === '\\') {
          const escaped = jql[index + 1];
          if (escaped === undefined) break;
          text += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
          index += 2;
        } else {
          text += jql[index];
          index++;
        }
      }
      if (jql[index] !== char)
        throw new Error('Error in the JQL Query: The quoted string has not been completed.');
      index++;
      tokens.push({ kind: 'string', text });
    } else if (char === '(' || char === ')' || char === ',') {
      tokens.push({ kind: 'punct', text: char });
      index++;
    } else if ('=!~<>'.includes(char)) {
      const two = jql.slice(index, index + 2);
      const text = ['!=', '!~', '<=', '>='].includes(two) ? two : char;
      if (text === '!') throw new Error("Error in the JQL Query: '!' must be followed by '=' or '~'.");
      tokens.push({ kind: 'op', text });
      index += text.length;
    } else {
      let text = '';
      while (index < jql.length) {
        const current = jql[index] ?? '';
        if (current === '[') {
          const close = jql.indexOf(']', index);
          if (close < 0) throw new Error("Error in the JQL Query: Expecting ']'.");
          text += jql.slice(index, close + 1);
          index = close + 1;
          continue;
        }
        if (/\s/.test(current) || '()=,!~<>"\''.includes(current)) break;
        text += current;
        index++;
      }
      tokens.push({ kind: 'word', text });
    }
  }
  return tokens;
}

function compareViews(a: IndexedView, b: IndexedView, orderBy: JqlOrder[]): number {
  // Without ORDER BY, newest first: a caller that takes issues[0] as "the oldest" finds out here.
  const order: JqlOrder[] = orderBy.length > 0 ? orderBy : [{ field: 'id', direction: 'DESC' }];
  for (const { field, direction } of order) {
    const sign = direction === 'ASC' ? 1 : -1;
    let difference: number;
    if (field === 'created') difference = a.created - b.created;
    else if (field === 'updated') difference = a.updated - b.updated;
    else if (field === 'id') difference = Number(a.id) - Number(b.id);
    else difference = compareKeys(a.key, b.key);
    if (difference !== 0) return sign * difference;
  }
  return Number(a.id) - Number(b.id);
}

function compareKeys(a: string, b: string): number {
  const [projectA = '', numberA = '0'] = a.split('-');
  const [projectB = '', numberB = '0'] = b.split('-');
  return projectA === projectB ? Number(numberA) - Number(numberB) : projectA < projectB ? -1 : 1;
}

function encodePageToken(token: { offset: number; fingerprint: string }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodePageToken(token: string): { offset: number; fingerprint: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (isRecord(parsed) && typeof parsed.offset === 'number' && typeof parsed.fingerprint === 'string') {
      return { offset: parsed.offset, fingerprint: parsed.fingerprint };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

// ---- helpers -------------------------------------------------------------------------------

interface RouteMatch {
  route: Route | undefined;
  params: Record<string, string>;
  methodNotAllowed: boolean;
}

function matchRoute(method: string, path: string): RouteMatch {
  let methodNotAllowed = false;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      methodNotAllowed = true;
      continue;
    }
    const params: Record<string, string> = {};
    route.params.forEach((name, index) => {
      params[name] = match[index + 1] ?? '';
    });
    return { route, params, methodNotAllowed: false };
  }
  return { route: undefined, params: {}, methodNotAllowed };
}

/**
 * Which fields a `fields` parameter asks for: comma-separated names, `*all`, `*navigable`, `-name`
 * to drop one. `id` alone means none, which is what /search/jql defaults to.
 */
function selectFields(
  requested: string[] | undefined,
  fallback: 'all' | 'id',
): { fields: IssueField[]; unknown?: string } {
  const names = (requested ?? [])
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) return { fields: fallback === 'all' ? [...ISSUE_FIELDS] : [] };
  const chosen = new Set<IssueField>();
  const isField = (name: string): name is IssueField => (ISSUE_FIELDS as readonly string[]).includes(name);
  for (const name of names) {
    if (name === '*all' || name === '*navigable') ISSUE_FIELDS.forEach((field) => chosen.add(field));
    else if (name === 'id' || name === 'key') continue;
    else if (name.startsWith('-')) {
      const dropped = name.slice(1);
      if (isField(dropped)) chosen.delete(dropped);
    } else if (isField(name)) chosen.add(name);
    // Jira ignores field names it does not know in `fields`; so does the emulator.
  }
  return { fields: [...chosen] };
}

function issueTypeFrom(project: ProjectRecord, reference: unknown): IssueTypeRecord | undefined {
  if (!isRecord(reference)) return undefined;
  if (typeof reference.id === 'string' || typeof reference.id === 'number') {
    return project.issueTypes.find((type) => type.id === String(reference.id));
  }
  if (typeof reference.name === 'string') {
    return project.issueTypes.find((type) => type.name === reference.name);
  }
  return undefined;
}

/** An Atlassian Document: a `doc` of version 1 whose nodes all have known types; text nodes need text. */
export function isAdfDocument(value: unknown): boolean {
  if (!isRecord(value) || value.type !== 'doc' || value.version !== 1 || !Array.isArray(value.content))
    return false;
  return value.content.every(isAdfNode);
}

function isAdfNode(node: unknown): boolean {
  if (!isRecord(node) || typeof node.type !== 'string' || !ADF_NODE_TYPES.has(node.type)) return false;
  if (node.type === 'text' && (typeof node.text !== 'string' || node.text === '')) return false;
  if (node.content !== undefined && (!Array.isArray(node.content) || !node.content.every(isAdfNode)))
    return false;
  if (node.marks !== undefined) {
    if (!Array.isArray(node.marks)) return false;
    if (!node.marks.every((mark) => isRecord(mark) && typeof mark.type === 'string')) return false;
  }
  return true;
}

/** Values at a dot path in a JSON value; arrays along the way (or at the end) fan out. */
function valuesAtPath(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const segment of path.split('.')) {
    current = current.flatMap((item) => {
      if (Array.isArray(item))
        return item.map((element) => (isRecord(element) ? element[segment] : undefined));
      return isRecord(item) ? [item[segment]] : [];
    });
  }
  return current
    .flatMap((item) => (Array.isArray(item) ? item : [item]))
    .filter((item) => item !== undefined);
}

/** Jira's timestamp format: milliseconds and a +hhmm offset without a colon. */
function jiraDate(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

function errorReply(status: number, errorMessages: string[], errors: Record<string, string> = {}): Reply {
  return { status, body: { errorMessages, errors } };
}

const DEFAULT_FAILURE_MESSAGES: Record<number, string> = {
  400: 'Bad request.',
  401: CLOUD_UNAUTHORIZED_TEXT,
  403: 'You do not have permission to perform this operation.',
  404: ISSUE_NOT_FOUND_MESSAGE,
  409: 'The issue could not be updated due to a conflicting update.',
  429: 'Rate limit exceeded.',
  500: 'Internal server error.',
  502: 'Bad gateway.',
  503: 'Service unavailable.',
  504: 'Gateway timeout.',
};

function failureReply(failure: JiraFailure): Reply {
  const headers: Record<string, string> = {};
  const retryAfter = failure.retryAfterSeconds ?? (failure.status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  if (failure.status === 429) headers['ratelimit-reason'] = 'jira-burst-based';
  if (typeof failure.body === 'string') return { status: failure.status, text: failure.body, headers };
  return {
    status: failure.status,
    headers,
    body: failure.body ?? {
      errorMessages: [DEFAULT_FAILURE_MESSAGES[failure.status] ?? `HTTP ${failure.status}`],
      errors: {},
    },
  };
}

function first(values: string[] | undefined): string | undefined {
  return values?.[0];
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Plain text as an ADF document, one paragraph per line; undefined for blank text. */
function adfFromText(text: string): unknown {
  const lines = text.split(/\r?\n/);
  if (lines.every((line) => line.trim() === '')) return undefined;
  return {
    type: 'doc',
    version: 1,
    content: lines.map((line) =>
      line === '' ? { type: 'paragraph' } : { type: 'paragraph', content: [{ type: 'text', text: line }] },
    ),
  };
}

/**
 * ADF as the wiki-markup text Jira puts in webhooks, roughly: text, paragraphs (blank line between),
 * hard breaks, list items and mentions (`[~accountid:...]`); marks are dropped. Anything not a
 * document is passed through.
 */
function adfToWiki(document: unknown): unknown {
  if (!isRecord(document) || document.type !== 'doc' || !Array.isArray(document.content)) return document;
  const inline = (node: unknown): string => {
    if (!isRecord(node)) return '';
    if (node.type === 'text' && typeof node.text === 'string') return node.text;
    if (node.type === 'hardBreak') return '\n';
    if (node.type === 'mention' && isRecord(node.attrs)) return `[~accountid:${String(node.attrs.id)}]`;
    return Array.isArray(node.content) ? node.content.map(inline).join('') : '';
  };
  const block = (node: unknown): string => {
    if (!isRecord(node)) return '';
    if (node.type === 'bulletList' || node.type === 'orderedList') {
      const marker = node.type === 'bulletList' ? '*' : '#';
      const items = Array.isArray(node.content) ? node.content : [];
      return items.map((item) => `${marker} ${isRecord(item) ? blocks(item.content, '\n') : ''}`).join('\n');
    }
    if (node.type === 'paragraph' || node.type === 'heading' || node.type === 'text') return inline(node);
    return Array.isArray(node.content) ? blocks(node.content, '\n') : inline(node);
  };
  const blocks = (nodes: unknown, separator: string): string =>
    Array.isArray(nodes) ? nodes.map(block).join(separator) : '';
  return blocks(document.content, '\n\n');
}

/** Moves every `self` link from /rest/api/3 to /rest/api/2, as in Jira's webhook payloads. */
function asRestV2(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asRestV2);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      key === 'self' && typeof item === 'string'
        ? item.replace('/rest/api/3/', '/rest/api/2/')
        : asRestV2(item);
  }
  return out;
}
