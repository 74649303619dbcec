/*
 * The one statement a catalog grant may be, checked by a grammar rather than a prefix test:
 *
 *   GRANT <privilege> [(<columns>)] [, …] ON [TABLE | FUNCTION | PROCEDURE] <level>
 *     TO '{{name}}'@'<host>'
 *
 * Vault splits creation statements on `;` and runs each, so anything after the grant (a second
 * statement, a comment, WITH …) would run with Vault's admin connection. None is allowed.
 */

/** Privileges MySQL 8 and MariaDB grant on databases, tables, columns and routines. */
const PRIVILEGES = [
  'ALL PRIVILEGES',
  'ALL',
  'ALTER ROUTINE',
  'ALTER',
  'CREATE ROUTINE',
  'CREATE TEMPORARY TABLES',
  'CREATE VIEW',
  'CREATE',
  'DELETE HISTORY',
  'DELETE',
  'DROP',
  'EVENT',
  'EXECUTE',
  'INDEX',
  'INSERT',
  'LOCK TABLES',
  'PROCESS',
  'REFERENCES',
  'RELOAD',
  'REPLICATION CLIENT',
  'REPLICATION SLAVE',
  'SELECT',
  'SHOW DATABASES',
  'SHOW VIEW',
  'SHOW_ROUTINE',
  'TRIGGER',
  'UPDATE',
].map((privilege) => privilege.split(' '));

/**
 * Privileges that hand the temporary user powers over the server or other accounts, which
 * outlive the grant or reach beyond the database.
 */
const REFUSED: Record<string, string> = {
  'GRANT OPTION': 'a temporary user could pass its rights to a user that never expires',
  'CREATE USER': 'a temporary user could create users that never expire',
  SUPER: 'a temporary user could change the server itself',
  FILE: "a temporary user could read and write the server's files",
  SHUTDOWN: 'a temporary user could stop the server',
  PROXY: 'a temporary user could act as another account',
};

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'ident'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'punct'; text: string; at: number };

class GrantSyntaxError extends Error {}

function tokenize(statement: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < statement.length) {
    const rest = statement.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (rest.startsWith('--') || rest.startsWith('#') || rest.startsWith('/*')) {
      throw new GrantSyntaxError(
        `contains a comment ("${excerpt(rest)}"); a grant is one statement with nothing else in it`,
      );
    }
    if (rest[0] === ';') {
      const after = rest.slice(1).trim();
      throw new GrantSyntaxError(
        after === ''
          ? 'ends with ";"; write the grant without it (Vault splits statements on ";")'
          : `has a second statement after ";" ("${excerpt(after)}"); a grant is exactly one GRANT statement`,
      );
    }
    const word = /^(?:\{\{\s*\w+\s*\}\}|[A-Za-z0-9_$])+/.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    if (rest[0] === '`') {
      const end = rest.indexOf('`', 1);
      if (end < 0) throw new GrantSyntaxError('has a `backtick` name that is never closed');
      tokens.push({ kind: 'ident', text: rest.slice(1, end), at: i });
      i += end + 1;
      continue;
    }
    if (rest[0] === "'" || rest[0] === '"') {
      const quote = rest[0];
      const end = rest.indexOf(quote, 1);
      if (end < 0) throw new GrantSyntaxError(`has a ${quote}quoted${quote} text that is never closed`);
      const text = rest.slice(1, end);
      if (text.includes('\\')) throw new GrantSyntaxError(`has a backslash in ${quote}${text}${quote}`);
      tokens.push({ kind: 'string', text, at: i });
      i += end + 1;
      continue;
    }
    if ('(),.*@'.includes(rest[0] ?? '')) {
      tokens.push({ kind: 'punct', text: rest[0] ?? '', at: i });
      i += 1;
      continue;
    }
    throw new GrantSyntaxError(`has "${excerpt(rest)}", which no grant contains`);
  }
  return tokens;
}

function excerpt(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

class Parser {
  private index = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly statement: string,
  ) {}

  parse(): void {
    this.expectWord('GRANT', 'must be a GRANT statement; jit-access writes the CREATE USER itself');
    this.privileges();
    this.expectWord('ON', 'must name what it grants on, e.g. ON orders.*');
    const objectType = this.peekWord();
    if (objectType && ['TABLE', 'FUNCTION', 'PROCEDURE'].includes(objectType)) this.index++;
    this.level();
    this.expectWord('TO', "must grant to the temporary user, e.g. TO '{{name}}'@'%'");
    this.grantee();
    const next = this.tokens[this.index];
    if (next) {
      const rest = this.statement.slice(next.at).trim();
      if (/^WITH\s+GRANT\s+OPTION\b/i.test(rest)) {
        throw new GrantSyntaxError(`must not give GRANT OPTION: ${REFUSED['GRANT OPTION']}`);
      }
      throw new GrantSyntaxError(
        `has "${excerpt(rest)}" after the grantee; a grant ends with TO '{{name}}'@'<host>'`,
      );
    }
  }

  private privileges(): void {
    for (;;) {
      this.privilege();
      if (!this.takePunct('(')) {
        // No column list.
      } else {
        this.columnList();
      }
      if (!this.takePunct(',')) return;
    }
  }

  private privilege(): void {
    const words: string[] = [];
    for (let token = this.tokens[this.index]; token?.kind === 'word'; token = this.tokens[this.index]) {
      const upper = token.text.toUpperCase();
      if (upper === 'ON' || upper === 'TO') break;
      words.push(upper);
      this.index++;
    }
    const phrase = words.join(' ');
    if (phrase === '') throw new GrantSyntaxError('must name at least one privilege, e.g. GRANT SELECT ON …');
    for (const [refused, why] of Object.entries(REFUSED)) {
      if (phrase === refused || phrase.endsWith(` ${refused}`) || phrase.startsWith(`${refused} `)) {
        throw new GrantSyntaxError(`must not give ${refused}: ${why}`);
      }
    }
    if (!PRIVILEGES.some((privilege) => privilege.join(' ') === phrase)) {
      throw new GrantSyntaxError(
        `grants "${phrase}", which is not a privilege jit-access knows (SELECT, INSERT, UPDATE, DELETE, EXECUTE, SHOW VIEW, …)`,
      );
    }
  }

  private columnList(): void {
    for (;;) {
      this.name('a column name in the column list');
      if (this.takePunct(')')) return;
      if (!this.takePunct(',')) throw new GrantSyntaxError('has a column list that is not closed with ")"');
    }
  }

  /** `*`, `*.*`, `db.*`, `db.table`, or `table`. */
  private level(): void {
    if (this.takePunct('*')) {
      if (this.takePunct('.') && !this.takePunct('*')) {
        throw new GrantSyntaxError('must name what it grants on: *.* or db.* or db.table');
      }
      return;
    }
    this.name('what it grants on, e.g. orders.*');
    if (this.takePunct('.') && !this.takePunct('*'))
      this.name('a table after the database, e.g. orders.events');
  }

  private grantee(): void {
    const user = this.tokens[this.index];
    if (user?.kind !== 'string' || !/^\{\{\s*(name|username)\s*\}\}$/.test(user.text)) {
      throw new GrantSyntaxError("must grant to the temporary user, e.g. TO '{{name}}'@'%'");
    }
    this.index++;
    if (!this.takePunct('@')) throw new GrantSyntaxError("must name the host too, e.g. TO '{{name}}'@'%'");
    const host = this.tokens[this.index];
    if (host?.kind !== 'string' || host.text === '') {
      throw new GrantSyntaxError("must give the host as a quoted text, e.g. '%' or '10.0.%'");
    }
    this.index++;
  }

  private name(what: string): void {
    const token = this.tokens[this.index];
    if (token?.kind === 'ident' || (token?.kind === 'word' && !/^\{\{/.test(token.text))) {
      this.index++;
      return;
    }
    throw new GrantSyntaxError(`must name ${what}`);
  }

  private peekWord(): string | undefined {
    const token = this.tokens[this.index];
    return token?.kind === 'word' ? token.text.toUpperCase() : undefined;
  }

  private expectWord(word: string, problem: string): void {
    if (this.peekWord() !== word) throw new GrantSyntaxError(problem);
    this.index++;
  }

  private takePunct(text: string): boolean {
    const token = this.tokens[this.index];
    if (token?.kind !== 'punct' || token.text !== text) return false;
    this.index++;
    return true;
  }
}

/** What is wrong with `statement` as a catalog grant, in words naming the offending part; undefined if nothing. */
export function grantProblem(statement: string): string | undefined {
  try {
    new Parser(tokenize(statement), statement).parse();
    return undefined;
  } catch (error) {
    if (error instanceof GrantSyntaxError) return error.message;
    throw error;
  }
}
