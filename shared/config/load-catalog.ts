import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { type Catalog, catalogSchema } from './catalog-schema.js';

/** One thing wrong with a catalog, located for the person who has to fix it. */
export interface CatalogProblem {
  /** Dotted YAML path, e.g. `databases.orders.levels.read.maxDuration`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the YAML file, when the problem can be placed. */
  readonly line?: number;
}

export class CatalogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The file is missing, unreadable, or not YAML at all. */
export class CatalogFileError extends CatalogError {}

/** The file is YAML but not a valid catalog. `problems` lists every error, not just the first. */
export class CatalogValidationError extends CatalogError {
  constructor(
    readonly source: string,
    readonly problems: readonly CatalogProblem[],
  ) {
    super(`${source} is not a valid catalog:\n${problems.map(formatProblem).join('\n')}`);
  }
}

/** `databases.orders.levels.read.grants[0]`: how the path reads in the YAML. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number' || /^\d+$/.test(segment)) return `${out}[${segment}]`;
    return out ? `${out}.${segment}` : segment;
  }, '');
}

export function formatProblem(problem: CatalogProblem): string {
  const where = problem.path ? `${problem.path}: ` : '';
  const line = problem.line ? ` (line ${problem.line})` : '';
  return `${where}${problem.message}${line}`;
}

export function loadCatalogFile(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable');
    throw new CatalogFileError(`cannot read catalog ${path}: ${reason}`, { cause: error });
  }
  return parseCatalog(text, path);
}

/** Parses and validates catalog YAML; `source` names it in messages. */
export function parseCatalog(text: string, source = 'catalog'): Catalog {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  const problems: CatalogProblem[] = [];
  for (const error of doc.errors) {
    if (error.code !== 'DUPLICATE_KEY') {
      throw new CatalogFileError(
        `${source} is not valid YAML: ${firstLine(error.message)} (line ${lineOf(error.pos[0])})`,
        {
          cause: error,
        },
      );
    }
    problems.push({
      path: '',
      message: `${duplicateKeyMessage(doc.contents, error.pos[0], text)}`,
      line: lineOf(error.pos[0]),
    });
  }
  if (!isMap(doc.contents)) {
    throw new CatalogFileError(
      `${source} is not a jit-access catalog: expected a YAML mapping with version, global and databases`,
    );
  }

  // yaml keeps the last of duplicate keys; the first is the definition people read, and the
  // duplicate is already reported, so only the first is validated (no false errors from the copy).
  dropDuplicateKeys(doc.contents);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // yaml refuses alias bombs ("billion laughs") here rather than exhausting memory.
    throw new CatalogFileError(`${source} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const result = catalogSchema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(describeIssue(issue, doc.contents, data, lineOf));
  }
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new CatalogValidationError(source, problems);
  }
  if (!result.success) throw new Error('unreachable: failed parse without problems');
  return result.data;
}

/** Removes every pair whose key an earlier pair of the same map already has, at every depth. */
function dropDuplicateKeys(node: unknown): void {
  if (isMap(node)) {
    const seen = new Set<unknown>();
    node.items = node.items.filter((pair) => {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    for (const pair of node.items) dropDuplicateKeys(pair.value);
  } else if (isSeq(node)) {
    for (const item of node.items) dropDuplicateKeys(item);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function duplicateKeyMessage(root: unknown, offset: number, text: string): string {
  const key = /^[^:\n]*/.exec(text.slice(offset))?.[0]?.trim() ?? '';
  const path = isMap(root) ? pathToOffset(root, offset) : [];
  const where = path.length > 0 ? path.join('.') : 'the top level';
  return `"${key}" is defined twice in ${where}; names must be unique`;
}

/** The chain of keys whose map contains `offset`, to name where a duplicate key sits. */
function pathToOffset(map: YAMLMap, offset: number): string[] {
  for (const pair of map.items) {
    const value = pair.value as Node | null;
    if (isMap(value) && value.range && offset >= value.range[0] && offset <= value.range[2]) {
      return [String(isScalar(pair.key) ? pair.key.value : pair.key), ...pathToOffset(value, offset)];
    }
  }
  return [];
}

type LineOf = (offset: number | undefined) => number | undefined;

function describeIssue(
  issue: z.core.$ZodIssue,
  root: YAMLMap,
  data: unknown,
  lineOf: LineOf,
): CatalogProblem {
  const path = issue.path.map(String);
  const where = formatPath(issue.path as (string | number)[]);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = issue.keys;
      const key = keys[0] ?? '';
      return {
        path: where,
        message:
          keys.length === 1
            ? `unknown field "${key}"`
            : `unknown fields ${keys.map((k) => `"${k}"`).join(', ')}`,
        line: lineOf(keyOffset(root, [...path, key]) ?? nodeOffset(root, path)),
      };
    }
    case 'custom':
      if ((issue.params as { catalogName?: boolean } | undefined)?.catalogName) {
        return { path: where, message: issue.message, line: lineOf(keyOffset(root, path)) };
      }
      return { path: where, message: issue.message, line: lineOf(nodeOffset(root, path)) };
    case 'invalid_key':
      return {
        path: where,
        message: `"${path.at(-1)}" ${issue.issues[0]?.message ?? issue.message}`,
        line: lineOf(keyOffset(root, path)),
      };
    default: {
      const missing = issue.code === 'invalid_type' && valueAt(data, issue.path) === undefined;
      const message = missing ? 'is required' : issue.message;
      return { path: where, message, line: lineOf(nodeOffset(root, path)) };
    }
  }
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Offset of the value at `path`, or of its nearest ancestor that exists (for missing fields). */
function nodeOffset(root: YAMLMap, path: readonly string[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = root.getIn(path.slice(0, depth), true) as Node | undefined;
    if (node?.range) {
      // A missing field is reported at its parent's key, where the reader will add it.
      if (depth < path.length && depth > 0) return keyOffset(root, path.slice(0, depth)) ?? node.range[0];
      return node.range[0];
    }
  }
  return undefined;
}

function keyOffset(root: YAMLMap, path: readonly string[]): number | undefined {
  const parent = path.length === 1 ? root : (root.getIn(path.slice(0, -1), true) as unknown);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find(
    (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === path.at(-1),
  );
  return pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
}
