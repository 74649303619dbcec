/*
 * The emulator's data: the fixtures a test configures it with (people, workflows, projects), the
 * records it keeps per issue, and the limits Jira Cloud enforces.
 */

import { randomInt } from 'node:crypto';
import type { Clock } from '../../../shared/ports/clock.js';
import type { IndexedView } from './jira-search-index.js';
import type { JiraOperation } from './jira-routes.js';

/**
 * What a plain Jira Cloud site indexes of entity properties: nothing. Only an app's declaration
 * (a Forge `jira:entityProperty` module) makes a property searchable in JQL.
 */
export const DEFAULT_INDEXED_PROPERTIES: readonly JiraIndexedProperty[] = [];

/** jit-access's request-id property, as a site would index it were an app to declare it. */
export const APP_DECLARED_REQUEST_ID: readonly JiraIndexedProperty[] = [
  { key: 'jitAccessRequestId', path: 'requestId' },
];

export const MAX_SUMMARY_LENGTH = 255;

export const MAX_LABEL_LENGTH = 255;

export const MAX_PROPERTY_KEY_LENGTH = 255;

export const MAX_PROPERTY_VALUE_LENGTH = 32_768;

/** Jira returns at most 5000 issues a page when only ids are asked for, fewer with fields. */
export const MAX_RESULTS_IDS_ONLY = 5_000;

export const MAX_RESULTS_WITH_FIELDS = 100;

export const DEFAULT_MAX_RESULTS = 50;

export const MAX_RECONCILE_ISSUES = 50;

/** Statuses belong to one of Jira's three fixed categories; the ids are the ones Jira Cloud uses. */
export const STATUS_CATEGORIES = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
} as const;

export type JiraStatusCategory = keyof typeof STATUS_CATEGORIES;

export const SETTABLE_FIELDS = new Set(['project', 'issuetype', 'summary', 'description', 'labels']);

export const ISSUE_FIELDS = [
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

export type IssueField = (typeof ISSUE_FIELDS)[number];

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
   * it, so by default (a plain site) a clause on any property fails, as on a site without the app.
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
  /** The changelog id, as the webhook of the move and the issue's changelog both show it. */
  id: string;
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

export interface StatusRecord {
  id: string;
  name: string;
  category: JiraStatusCategory;
}

export interface TransitionRecord {
  id: string;
  name: string;
  from: Set<string> | 'any';
  to: string;
}

export interface WorkflowRecord {
  name: string;
  statuses: Map<string, StatusRecord>;
  initial: string;
  transitions: TransitionRecord[];
}

export interface IssueTypeRecord {
  id: string;
  name: string;
  workflow: WorkflowRecord;
}

export interface ProjectRecord {
  id: string;
  key: string;
  name: string;
  issueTypes: IssueTypeRecord[];
  permissions: { browse: boolean; create: boolean; edit: boolean; transition: boolean; comment: boolean };
  nextIssueNumber: number;
}

export interface CommentRecord {
  id: string;
  body: unknown;
  authorAccountId: string;
  created: Date;
}

export interface IssueRecord {
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The workflows as records, checked: every status a transition names exists, and there is a first. */
export function buildWorkflows(fixtures: readonly JiraWorkflowFixture[]): Map<string, WorkflowRecord> {
  const workflows = new Map<string, WorkflowRecord>();
  // Transition ids are allocated from one counter with a random start, so no two workflows share
  // an id and no test (or product code) can get away with hard-coding one: look them up by name.
  let transitionId = 11 + 10 * randomInt(1, 500);
  let statusId = 10_000 + randomInt(0, 1_000);
  for (const fixture of fixtures) {
    const statuses = new Map<string, StatusRecord>();
    for (const status of fixture.statuses) {
      statuses.set(status.name, { id: String(statusId++), name: status.name, category: status.category });
    }
    const initial = fixture.initialStatus ?? fixture.statuses[0]?.name;
    if (!initial || !statuses.has(initial)) throw new Error(`workflow ${fixture.name} has no initial status`);
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
    workflows.set(fixture.name, { name: fixture.name, statuses, initial, transitions });
  }
  return workflows;
}

/** The projects as records, each issue type bound to its workflow; permissions default to all. */
export function buildProjects(
  fixtures: readonly JiraProjectFixture[],
  workflows: ReadonlyMap<string, WorkflowRecord>,
): Map<string, ProjectRecord> {
  const projects = new Map<string, ProjectRecord>();
  let projectId = 10_000 + randomInt(0, 1_000);
  let issueTypeId = 10_001 + randomInt(0, 1_000);
  for (const fixture of fixtures) {
    const issueTypes = fixture.issueTypes.map((type) => {
      const workflow = workflows.get(type.workflow);
      if (!workflow) throw new Error(`issue type ${type.name}: unknown workflow ${type.workflow}`);
      return { id: type.id ?? String(issueTypeId++), name: type.name, workflow };
    });
    projects.set(fixture.key, {
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
  return projects;
}
