/* The emulator's HTTP surface: the operations it answers, their routes, and its error replies. */

import type { JiraFailure } from './jira-model.js';

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
  'getChangeLogs',
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

export interface Route {
  operation: JiraOperation;
  method: string;
  template: string;
  pattern: RegExp;
  params: string[];
}

export const ROUTES: Route[] = (
  [
    ['createIssue', 'POST', '/rest/api/3/issue'],
    ['getIssue', 'GET', '/rest/api/3/issue/{issueIdOrKey}'],
    ['getIssuePropertyKeys', 'GET', '/rest/api/3/issue/{issueIdOrKey}/properties'],
    ['getIssueProperty', 'GET', '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}'],
    ['setIssueProperty', 'PUT', '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}'],
    ['getComments', 'GET', '/rest/api/3/issue/{issueIdOrKey}/comment'],
    ['getChangeLogs', 'GET', '/rest/api/3/issue/{issueIdOrKey}/changelog'],
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
export const UNAUTHENTICATED_MESSAGE =
  'You are not authenticated. Authentication required to perform this operation.';

export interface Reply {
  status: number;
  /** JSON-encoded unless `text` is set; undefined sends no body. */
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export interface RouteMatch {
  route: Route | undefined;
  params: Record<string, string>;
  methodNotAllowed: boolean;
}

export function matchRoute(method: string, path: string): RouteMatch {
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

export function errorReply(
  status: number,
  errorMessages: string[],
  errors: Record<string, string> = {},
): Reply {
  return { status, body: { errorMessages, errors } };
}

export const DEFAULT_FAILURE_MESSAGES: Record<number, string> = {
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

export function failureReply(failure: JiraFailure): Reply {
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
