/*
 * The search index: what JQL sees of each issue is a copy taken when the index caught up with it
 * (Jira Cloud's index lags writes), matched clause by clause and ordered as Jira orders results.
 */

import type { JqlClause, JqlField, JqlOrder } from './jira-jql.js';
import { isRecord, type IssueRecord, type JiraIndexedProperty } from './jira-model.js';

/** What search sees of an issue: a copy taken when the index caught up with it. */
export interface IndexedView {
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

export function compareViews(a: IndexedView, b: IndexedView, orderBy: JqlOrder[]): number {
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

export function compareKeys(a: string, b: string): number {
  const [projectA = '', numberA = '0'] = a.split('-');
  const [projectB = '', numberB = '0'] = b.split('-');
  return projectA === projectB ? Number(numberA) - Number(numberB) : projectA < projectB ? -1 : 1;
}

export function encodePageToken(token: { offset: number; fingerprint: string }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

export function decodePageToken(token: string): { offset: number; fingerprint: string } | undefined {
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

/** Values at a dot path in a JSON value; arrays along the way (or at the end) fan out. */
export function valuesAtPath(value: unknown, path: string): unknown[] {
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

/** What search sees of an issue now. */
export function viewOf(issue: IssueRecord): IndexedView {
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

/** After a write: the new view is searchable at once, or `lagMs` later. */
export function reindex(issue: IssueRecord, lagMs: number, now: Date): void {
  const view = viewOf(issue);
  if (lagMs <= 0) {
    issue.indexed = view;
    issue.pendingIndex = [];
    return;
  }
  issue.pendingIndex.push({ view, visibleAt: now.getTime() + lagMs });
}

/** Brings every issue's searchable view up to `now`. */
export function settleIndex(issues: Iterable<IssueRecord>, now: Date): void {
  const at = now.getTime();
  for (const issue of issues) {
    while (issue.pendingIndex[0] && issue.pendingIndex[0].visibleAt <= at) {
      issue.indexed = issue.pendingIndex.shift()?.view;
    }
  }
}

/** Why Jira would refuse these clauses (an unindexed property, an unknown project), if it would. */
export function clauseProblem(
  clauses: JqlClause[],
  indexedProperties: readonly JiraIndexedProperty[],
  projectExists: (reference: string) => boolean,
): string | undefined {
  for (const clause of clauses) {
    if (clause.field.kind === 'property') {
      const { key, path } = clause.field;
      const indexed = indexedProperties.some((property) => property.key === key && property.path === path);
      if (!indexed)
        return `Field '${clause.field.text}' does not exist or you do not have permission to view it.`;
      continue;
    }
    if (clause.field.name === 'project') {
      for (const value of clause.values) {
        if (!projectExists(value)) return `The value '${value}' does not exist for the field 'project'.`;
      }
    }
  }
  return undefined;
}

export function matchesClause(clause: JqlClause, view: IndexedView): boolean {
  const actual = valuesFor(clause.field, view).map((value) => value.toLowerCase());
  const hit = clause.values.some((wanted) => actual.includes(wanted.toLowerCase()));
  return clause.negated ? !hit : hit;
}

function valuesFor(field: JqlField, view: IndexedView): string[] {
  if (field.kind === 'property') {
    return valuesAtPath(view.properties[field.key], field.path)
      .filter((value) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
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
