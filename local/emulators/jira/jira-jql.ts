/* The subset of JQL jit-access and its tests send, parsed as Jira does, with Jira's errors. */

export type JqlField =
  | { kind: 'system'; name: 'project' | 'key' | 'id' | 'status' | 'labels' | 'issuetype'; text: string }
  | { kind: 'property'; key: string; path: string; text: string };

export interface JqlClause {
  field: JqlField;
  negated: boolean;
  values: string[];
}

export interface JqlOrder {
  field: 'created' | 'updated' | 'key' | 'id';
  direction: 'ASC' | 'DESC';
}

export interface JqlQuery {
  clauses: JqlClause[];
  orderBy: JqlOrder[];
}

export type JqlToken =
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'op'; text: string }
  | { kind: 'punct'; text: '(' | ')' | ',' };

export const SYSTEM_FIELDS: Record<string, Extract<JqlField, { kind: 'system' }>['name']> = {
  project: 'project',
  key: 'key',
  issuekey: 'key',
  id: 'id',
  status: 'status',
  labels: 'labels',
  issuetype: 'issuetype',
  type: 'issuetype',
};

export const KNOWN_UNSUPPORTED_FIELDS = new Set([
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
export function parseJql(jql: string): JqlQuery {
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

export function jqlField(text: string): JqlField {
  const property = /^issue\.property\[([^\]]+)\]\.(.+)$/i.exec(text);
  if (property?.[1] && property[2]) return { kind: 'property', key: property[1], path: property[2], text };
  const name = SYSTEM_FIELDS[text.toLowerCase()];
  if (name) return { kind: 'system', name, text };
  if (KNOWN_UNSUPPORTED_FIELDS.has(text.toLowerCase())) {
    throw new Error(`jira emulator: JQL on '${text}' is not emulated.`);
  }
  throw new Error(`Field '${text}' does not exist or you do not have permission to view it.`);
}

export function tokenizeJql(jql: string): JqlToken[] {
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
