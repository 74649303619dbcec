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
    const bytes = readFileSync(path);
    if (!isText(bytes)) {
      throw new CatalogFileError(
        `${path} is not a text file (it holds binary data); a catalog is a YAML text file such as examples/jit-access.config.yaml`,
      );
    }
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof CatalogFileError) throw error;
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
        `${source} is not valid YAML: ${yamlProblem(error.code)} (line ${lineOf(error.pos[0])})`,
        { cause: error },
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
    const issues = withoutMisspelledRequired(result.error.issues, data);
    for (const issue of issues) problems.push(describeIssue(issue, doc.contents, data, lineOf));
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

/** NUL bytes or bytes that are not UTF-8: not a file anyone wrote as YAML. */
function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The YAML parser's error, in our words: what is wrong and what to do. */
function yamlProblem(code: string): string {
  switch (code) {
    case 'MULTIPLE_DOCS':
      return 'it holds more than one YAML document (a "---" line starts another); a catalog is one document, so remove the "---" and what follows or merge it';
    case 'TAB_AS_INDENT':
      return 'a line is indented with a tab; YAML indents with spaces only';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'the indentation or punctuation there does not line up; compare it with the lines around it';
    case 'MULTILINE_IMPLICIT_KEY':
    case 'BLOCK_AS_IMPLICIT_KEY':
      return 'a key runs over more than one line, or a line has no "key: value" shape; check the colon and the quotes';
    case 'BAD_DQ_ESCAPE':
      return 'a double-quoted text has an escape YAML does not know; use single quotes for text with backslashes';
    case 'BAD_SCALAR_START':
      return 'a value starts with a character YAML reserves (such as @, ` or %); put the value in quotes';
    case 'KEY_OVER_1024_CHARS':
      return 'a key is longer than 1024 characters';
    default:
      return 'it cannot be read as YAML there; check the indentation and the quotes on that line';
  }
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

/**
 * A misspelled required field shows up twice: as an unknown field and as a missing one. The
 * unknown field's message names the right spelling, so the "is required" is not repeated.
 */
function withoutMisspelledRequired(issues: readonly z.core.$ZodIssue[], data: unknown): z.core.$ZodIssue[] {
  const misspelt = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownFields(issue.path as PropertyKey[]);
    for (const key of issue.keys) {
      const near = nearest(key, known);
      if (near) misspelt.add(formatPath([...(issue.path as (string | number)[]), near]));
    }
  }
  return issues.filter(
    (issue) =>
      !(
        issue.code === 'invalid_type' &&
        valueAt(data, issue.path) === undefined &&
        misspelt.has(formatPath(issue.path as (string | number)[]))
      ),
  );
}

/** The field names the schema allows at `path` (an object's keys), or none. */
function knownFields(path: readonly PropertyKey[]): string[] {
  let schema: unknown = catalogSchema;
  for (const segment of [...path, undefined]) {
    // Unwrap what wraps an object or a record: optional, default, pipes and refinements.
    for (let def = defOf(schema); def; def = defOf(schema)) {
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable')
        schema = def.innerType;
      else if (def.type === 'pipe') schema = def.in;
      else break;
    }
    const def = defOf(schema);
    if (segment === undefined) {
      return def?.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
    }
    if (def?.type === 'object') schema = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def?.type === 'record') schema = def.valueType;
    else if (def?.type === 'array') schema = def.element;
    else return [];
  }
  return [];
}

function defOf(schema: unknown): (Record<string, unknown> & { type?: string }) | undefined {
  return (schema as { _zod?: { def?: Record<string, unknown> & { type?: string } } } | undefined)?._zod?.def;
}

/** The known name `word` is most likely a slip for: same letters in another case, or 1–2 edits away. */
function nearest(word: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance =
      name.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance <= Math.min(2, Math.floor(name.length / 3)) && (!best || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

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
      const known = knownFields(issue.path as PropertyKey[]);
      const named = (k: string) => {
        const near = nearest(k, known);
        return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
      };
      return {
        path: where,
        message:
          keys.length === 1 ? `unknown field ${named(key)}` : `unknown fields ${keys.map(named).join(', ')}`,
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
