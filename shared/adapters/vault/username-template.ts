import { createHash, randomInt, randomUUID } from 'node:crypto';

/*
 * Vault's username templates, evaluated as Vault evaluates them: Go text/template syntax (text,
 * `{{ … }}` actions with pipelines, parenthesised sub-pipelines, string and number literals,
 * `.Field`), with the functions of Vault's sdk/helper/template (random, truncate,
 * truncate_sha256, uppercase, lowercase, replace, sha256, base64, unix_time, unix_time_millis,
 * timestamp, uuid) and Go's printf. The Vault emulator names its temporary MySQL users with it, and
 * `vault sync` and the docs use it to show what a template makes of an account name, so a
 * template that drops the name (Vault's default keeps 4 characters of it) is caught before a
 * database is full of users nobody can trace.
 */

/** What Vault's database engine hands a username template (its UsernameMetadata). */
export interface UsernameMetadata {
  readonly DisplayName: string;
  readonly RoleName: string;
}

export interface TemplateEnvironment {
  readonly now?: () => Date;
  /** `length` characters of base62, as Vault's `random`. */
  readonly random?: (length: number) => string;
}

/** The template cannot be parsed or executed; the message says where, as Vault's would. */
export class UsernameTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsernameTemplateError';
  }
}

/** Vault's default for `mysql-database-plugin` (MySQL 8, MariaDB): at most 32 characters. */
export const DEFAULT_USERNAME_TEMPLATE =
  '{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}';
/** Vault's default for the legacy, RDS and Aurora plugins: at most 16 characters, no display name. */
export const LEGACY_USERNAME_TEMPLATE =
  '{{ printf "v-%s-%s-%s" (.RoleName | truncate 4) (random 20) | truncate 16 }}';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random characters of base62, as Vault's `random` (and its token and lease ids). */
export function randomBase62(length: number): string {
  return Array.from({ length }, () => BASE62[randomInt(BASE62.length)]).join('');
}

/** Renders `template` for `metadata`; throws UsernameTemplateError as Vault would refuse it. */
export function renderUsernameTemplate(
  template: string,
  metadata: UsernameMetadata,
  environment: TemplateEnvironment = {},
): string {
  const now = environment.now ?? (() => new Date());
  const random = environment.random ?? randomBase62;
  return parseTemplate(template)
    .map((part) => (typeof part === 'string' ? part : evaluate(part, metadata, { now, random })))
    .join('');
}

/**
 * The display name Vault gives a token created with `display_name` `name`: `token-` and the
 * name with every character outside `[a-zA-Z0-9-]` changed to `-`, a trailing `-` trimmed.
 */
export function tokenDisplayName(name: string | undefined): string {
  if (name === undefined || name === '') return 'token';
  return `token-${name}`.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-$/, '');
}

// ---- parsing ----------------------------------------------------------------------------------

type Operand =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'field'; name: string }
  | { kind: 'call'; name: string }
  | { kind: 'pipeline'; pipeline: Pipeline };
/** One command: a function with its arguments, or a single value. */
type Command = Operand[];
type Pipeline = Command[];

function parseTemplate(template: string): (string | Pipeline)[] {
  const parts: (string | Pipeline)[] = [];
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      parts.push(rest);
      return parts;
    }
    let text = rest.slice(0, open);
    let inner = rest.slice(open + 2);
    // `{{- ` trims the whitespace before, ` -}}` the whitespace after, as in Go.
    if (/^- /.test(inner)) {
      text = text.trimEnd();
      inner = inner.slice(2);
    }
    const close = inner.indexOf('}}');
    if (close < 0) throw new UsernameTemplateError('unable to parse template: unclosed action');
    let action = inner.slice(0, close);
    rest = inner.slice(close + 2);
    if (/ -$/.test(action)) {
      action = action.slice(0, -2);
      rest = rest.trimStart();
    }
    parts.push(text);
    parts.push(parsePipeline(tokenize(action)));
  }
}

type Token = { kind: 'string' | 'number' | 'field' | 'ident' | '(' | ')' | '|'; text: string };

function tokenize(action: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < action.length) {
    const char = action[i] ?? '';
    if (/\s/.test(char)) {
      i++;
    } else if (char === '(' || char === ')' || char === '|') {
      tokens.push({ kind: char, text: char });
      i++;
    } else if (char === '"') {
      let value = '';
      i++;
      for (;;) {
        const next = action[i];
        if (next === undefined)
          throw new UsernameTemplateError('unable to parse template: unterminated quoted string');
        i++;
        if (next === '"') break;
        if (next === '\\') {
          const escaped = action[i++];
          value += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : (escaped ?? '');
        } else {
          value += next;
        }
      }
      tokens.push({ kind: 'string', text: value });
    } else if (char === '`') {
      const end = action.indexOf('`', i + 1);
      if (end < 0)
        throw new UsernameTemplateError('unable to parse template: unterminated raw quoted string');
      tokens.push({ kind: 'string', text: action.slice(i + 1, end) });
      i = end + 1;
    } else {
      const word = /^[^\s()|"`]+/.exec(action.slice(i))?.[0] ?? char;
      i += word.length;
      if (/^-?\d+$/.test(word)) tokens.push({ kind: 'number', text: word });
      else if (/^\.[A-Za-z_]\w*$/.test(word)) tokens.push({ kind: 'field', text: word.slice(1) });
      else if (/^[A-Za-z_]\w*$/.test(word)) tokens.push({ kind: 'ident', text: word });
      else throw new UsernameTemplateError(`unable to parse template: unexpected "${word}" in operand`);
    }
  }
  return tokens;
}

function parsePipeline(tokens: Token[]): Pipeline {
  let position = 0;
  const pipeline = (): Pipeline => {
    const commands: Pipeline = [command()];
    while (tokens[position]?.kind === '|') {
      position++;
      commands.push(command());
    }
    return commands;
  };
  const command = (): Command => {
    const operands: Command = [];
    for (
      let token = tokens[position];
      token && token.kind !== '|' && token.kind !== ')';
      token = tokens[position]
    ) {
      position++;
      if (token.kind === '(') {
        operands.push({ kind: 'pipeline', pipeline: pipeline() });
        if (tokens[position]?.kind !== ')')
          throw new UsernameTemplateError('unable to parse template: unclosed left paren');
        position++;
      } else if (token.kind === 'string') operands.push({ kind: 'string', value: token.text });
      else if (token.kind === 'number') operands.push({ kind: 'number', value: Number(token.text) });
      else if (token.kind === 'field') operands.push({ kind: 'field', name: token.text });
      else operands.push({ kind: 'call', name: token.text });
    }
    if (operands.length === 0)
      throw new UsernameTemplateError('unable to parse template: missing value for command');
    return operands;
  };
  const parsed = pipeline();
  if (position < tokens.length) throw new UsernameTemplateError('unable to parse template: unexpected ")"');
  return parsed;
}

// ---- evaluation -------------------------------------------------------------------------------

type Value = string | number;
interface Runtime {
  readonly now: () => Date;
  readonly random: (length: number) => string;
}

function evaluate(pipeline: Pipeline, data: UsernameMetadata, runtime: Runtime): string {
  let previous: Value | undefined;
  for (const command of pipeline) previous = run(command, previous, data, runtime);
  return String(previous ?? '');
}

function run(command: Command, piped: Value | undefined, data: UsernameMetadata, runtime: Runtime): Value {
  const [head, ...rest] = command;
  const value = (operand: Operand): Value => {
    switch (operand.kind) {
      case 'string':
      case 'number':
        return operand.value;
      case 'field': {
        if (!Object.hasOwn(data, operand.name)) {
          throw new UsernameTemplateError(`unable to apply template: can't evaluate field ${operand.name}`);
        }
        return data[operand.name as keyof UsernameMetadata];
      }
      case 'call':
        return call(operand.name, [], runtime);
      case 'pipeline':
        return evaluate(operand.pipeline, data, runtime);
    }
  };
  if (head?.kind === 'call') {
    const args = rest.map(value);
    if (piped !== undefined) args.push(piped);
    return call(head.name, args, runtime);
  }
  if (rest.length > 0 || piped !== undefined || !head) {
    throw new UsernameTemplateError("unable to apply template: can't give argument to non-function");
  }
  return value(head);
}

function call(name: string, args: Value[], runtime: Runtime): Value {
  const want = (count: number) => {
    if (args.length !== count) {
      throw new UsernameTemplateError(
        `unable to apply template: wrong number of args for ${name}: want ${count} got ${args.length}`,
      );
    }
  };
  const int = (arg: Value | undefined) => {
    if (typeof arg !== 'number')
      throw new UsernameTemplateError(`unable to apply template: ${name} needs a number`);
    return arg;
  };
  const str = (arg: Value | undefined) => String(arg ?? '');
  switch (name) {
    case 'printf':
      return printf(str(args[0]), args.slice(1));
    case 'random':
      want(1);
      return runtime.random(int(args[0]));
    case 'truncate': {
      want(2);
      const max = int(args[0]);
      if (max <= 0)
        throw new UsernameTemplateError(`unable to apply template: max length must be > 0 but was ${max}`);
      return str(args[1]).slice(0, max);
    }
    case 'truncate_sha256': {
      want(2);
      const max = int(args[0]);
      if (max <= 8)
        throw new UsernameTemplateError(`unable to apply template: max length must be > 8 but was ${max}`);
      const text = str(args[1]);
      if (text.length <= max) return text;
      const cut = max - 8;
      return text.slice(0, cut) + sha256(text.slice(cut)).slice(0, 8);
    }
    case 'uppercase':
      want(1);
      return str(args[0]).toUpperCase();
    case 'lowercase':
      want(1);
      return str(args[0]).toLowerCase();
    case 'replace':
      want(3);
      return str(args[2]).replaceAll(str(args[0]), str(args[1]));
    case 'sha256':
      want(1);
      return sha256(str(args[0]));
    case 'base64':
      want(1);
      return Buffer.from(str(args[0])).toString('base64');
    case 'unix_time':
      want(0);
      return String(Math.floor(runtime.now().getTime() / 1000));
    case 'unix_time_millis':
      want(0);
      return String(runtime.now().getTime());
    case 'timestamp':
      want(1);
      return goTime(str(args[0]), runtime.now());
    case 'uuid':
      want(0);
      return randomUUID();
    default:
      throw new UsernameTemplateError(`unable to parse template: function "${name}" not defined`);
  }
}

/** Go's fmt verbs a username template uses: %s, %d, %v, %%. */
function printf(format: string, args: Value[]): string {
  let next = 0;
  return format.replace(/%([sdvq%])/g, (_match, verb: string) => {
    if (verb === '%') return '%';
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[next++];
    return verb === 'q' ? JSON.stringify(String(arg)) : String(arg);
  });
}

/** Go's reference-time layout (2006-01-02 15:04:05, Jan, Mon, -0700, Z07:00), in UTC as Lambda runs. */
function goTime(layout: string, at: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const tokens: Record<string, () => string> = {
    '2006': () => String(at.getUTCFullYear()),
    'Z07:00': () => 'Z',
    '-0700': () => '+0000',
    Jan: () => at.toUTCString().slice(8, 11),
    Mon: () => at.toUTCString().slice(0, 3),
    MST: () => 'UTC',
    '01': () => pad(at.getUTCMonth() + 1),
    '02': () => pad(at.getUTCDate()),
    '15': () => pad(at.getUTCHours()),
    '04': () => pad(at.getUTCMinutes()),
    '05': () => pad(at.getUTCSeconds()),
    '06': () => pad(at.getUTCFullYear() % 100),
  };
  return layout.replace(
    /2006|Z07:00|-0700|Jan|Mon|MST|01|02|15|04|05|06/g,
    (token) => tokens[token]?.() ?? token,
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
