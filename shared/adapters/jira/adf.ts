/** Atlassian Document Format: Jira Cloud's rich text (a `doc` node with content). */
export interface AdfDocument {
  readonly type: 'doc';
  readonly version: 1;
  readonly content: readonly AdfNode[];
}
export interface AdfNode {
  readonly type: string;
  readonly attrs?: Record<string, unknown>;
  readonly content?: readonly AdfNode[];
  readonly text?: string;
  readonly marks?: readonly { type: string; attrs?: Record<string, unknown> }[];
}

/** A ticket as Jira's create call takes it, rendered from a request. */
export interface TicketDraft {
  readonly requestId: string;
  readonly projectKey: string;
  readonly issueType: string;
  readonly summary: string;
  readonly description: AdfDocument;
  readonly labels: readonly string[];
}
