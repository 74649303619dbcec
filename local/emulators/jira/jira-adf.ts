/* Atlassian Document Format as the emulator checks it, and as Jira turns it into webhook text. */

import { isRecord } from './jira-model.js';

/** ADF node types Jira accepts in a document; anything else is a typo Jira would refuse. */
export const ADF_NODE_TYPES = new Set([
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

/** An Atlassian Document: a `doc` of version 1 whose nodes all have known types; text nodes need text. */
export function isAdfDocument(value: unknown): boolean {
  if (!isRecord(value) || value.type !== 'doc' || value.version !== 1 || !Array.isArray(value.content))
    return false;
  return value.content.every(isAdfNode);
}

export function isAdfNode(node: unknown): boolean {
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

/** Plain text as an ADF document, one paragraph per line; undefined for blank text. */
export function adfFromText(text: string): unknown {
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
export function adfToWiki(document: unknown): unknown {
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
export function asRestV2(value: unknown): unknown {
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
