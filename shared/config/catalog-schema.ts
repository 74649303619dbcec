import * as z from 'zod';
import { type Duration, formatDuration, parseDuration } from '../domain/duration.js';
import { DurationError } from '../domain/errors.js';
import { normalizeDn } from '../domain/dn.js';
import { grantProblem } from './grant-grammar.js';
import { SERVER_FLAVORS } from './server-flavors.js';

/** Access lasts a working day at most; anything longer is a standing grant, not just-in-time access. */
export const MAX_ACCESS_DURATION: Duration = { minutes: 24 * 60 };
/** A request nobody decided within a week is stale; ask again with fresh context. */
export const MAX_DECISION_TIMEOUT: Duration = { minutes: 7 * 24 * 60 };
/** The wrapping token is only the envelope for delivery: minutes, never hours. */
export const MAX_WRAP_TTL: Duration = { minutes: 60 };

/** Placeholders Vault's MySQL database plugin substitutes in statements. */
export const GRANT_PLACEHOLDERS = ['name', 'username'] as const;

const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
const NAME_HELP = 'lowercase letters, digits, "-" or "_", starting with a letter, at most 32 characters';

/** Database and level names are typed in the slash command, so they must be plain words. */
export const CATALOG_NAME_PATTERN = NAME_PATTERN;

/**
 * A map from catalog names to entries. Names are checked beside the entries, not as zod record
 * keys: a bad key makes zod skip its entry, which would hide every error inside it.
 */
function namedRecord<T extends z.ZodType>(entry: T, error: string) {
  return z.record(z.string(), entry, { error }).superRefine(
    (record, ctx) => {
      // `when` below also runs this on a missing or mistyped map, already reported by the record.
      if (typeof record !== 'object' || record === null) return;
      for (const name of Object.keys(record)) {
        if (NAME_PATTERN.test(name)) continue;
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `"${name}" must be ${NAME_HELP}`,
          params: { catalogName: true },
        });
      }
    },
    // Run even when an entry has errors of its own: every real error is reported.
    { when: () => true } as never,
  );
}

function durationField(ceiling: Duration, ceilingText: string) {
  return z
    .string({ error: 'must be a duration such as 30m, 2h or 1d' })
    .meta({ pattern: '^[0-9]+[mhd]$', examples: ['30m', '2h', '1d'] })
    .transform((text, ctx): Duration => {
      try {
        const duration = parseDuration(text);
        if (duration.minutes > ceiling.minutes) {
          ctx.addIssue({
            code: 'custom',
            message: `"${text}" exceeds the ${ceilingText} ceiling`,
          });
          return z.NEVER;
        }
        return duration;
      } catch (error) {
        if (!(error instanceof DurationError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
        return z.NEVER;
      }
    });
}

// An RFC 4514 distinguished name: attribute=value pairs separated by commas, values may
// escape commas with a backslash. Loose on purpose: the directory is the final judge.
const DN_PATTERN =
  /^\s*[A-Za-z][A-Za-z0-9-]*=(?:[^,\\]|\\.)+(?:\s*,\s*[A-Za-z][A-Za-z0-9-]*=(?:[^,\\]|\\.)+)*\s*$/;

const groupDn = z.string().regex(DN_PATTERN, {
  error: 'must be a group distinguished name, e.g. CN=db-readers,OU=Groups,DC=example,DC=com',
});

function groupList(role: string) {
  return z
    .array(groupDn, { error: `must be a list of AD group DNs allowed to ${role}` })
    .min(1, { error: `must name at least one AD group allowed to ${role}` })
    .superRefine((dns, ctx) => {
      const seen = new Set<string>();
      dns.forEach((dn, index) => {
        const key = normalizeDn(dn);
        if (seen.has(key))
          ctx.addIssue({ code: 'custom', path: [index], message: `"${dn}" is listed twice` });
        seen.add(key);
      });
    });
}

const grantStatement = z.string().superRefine((statement, ctx) => {
  const text = statement.trim();
  let placeholderProblem = false;
  for (const match of text.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
    const placeholder = match[1] ?? '';
    if (placeholder === 'password') {
      placeholderProblem = true;
      ctx.addIssue({
        code: 'custom',
        message:
          'must not contain {{password}}: the password belongs to the CREATE USER that jit-access writes',
      });
    } else if (!(GRANT_PLACEHOLDERS as readonly string[]).includes(placeholder)) {
      placeholderProblem = true;
      ctx.addIssue({
        code: 'custom',
        message: `uses the unknown placeholder {{${placeholder}}}; grants may use ${GRANT_PLACEHOLDERS.map((p) => `{{${p}}}`).join(' or ')}`,
      });
    }
  }
  if (placeholderProblem) return;
  const problem = grantProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const justificationRule = z.strictObject({
  pattern: z
    .string()
    .superRefine((source, ctx) => {
      try {
        new RegExp(source);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `is not a valid regular expression: ${(error as Error).message}`,
        });
      }
    })
    .optional()
    .describe('A regular expression every justification must match, e.g. "(INC|CHG)-[0-9]+"'),
  minLength: z
    .int({ error: 'must be a whole number of characters' })
    .min(0, { error: 'must be 0 or more' })
    .max(500, { error: 'must be at most 500 characters' })
    .optional()
    .describe('The fewest characters a justification may have'),
  hint: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Shown to a requester whose justification is refused, e.g. "start with the incident key"'),
});

const accessLevel = z
  .strictObject({
    description: z.string().max(300).optional(),
    grants: z
      .array(grantStatement, { error: 'must be a list of GRANT statements' })
      .min(1, { error: 'must list at least one GRANT statement' })
      .describe(
        "GRANT statements run for the temporary user; {{name}} is its user name, e.g. GRANT SELECT ON db.* TO '{{name}}'@'%'",
      ),
    defaultDuration: durationField(MAX_ACCESS_DURATION, '24h').describe('Offered first, e.g. 1h'),
    maxDuration: durationField(MAX_ACCESS_DURATION, '24h').describe(
      'The longest a requester may ask for, at most 24h',
    ),
    requesterGroups: groupList('request this level').describe(
      'AD groups (DNs) whose members, also through nested groups, may request',
    ),
    approverGroups: groupList('approve this level').describe(
      'AD groups (DNs) whose members, also through nested groups, may approve',
    ),
    maxExtension: durationField(MAX_ACCESS_DURATION, '24h')
      .optional()
      .describe(
        'How much time, in total, a grant of this level may be extended by (each extension approved like the request); no extensions when not given',
      ),
    approvalsRequired: z
      .int({ error: 'must be a whole number' })
      .min(1, { error: 'must be at least 1' })
      .max(5, { error: 'must be at most 5' })
      .default(1)
      .describe('Distinct approvers needed before access is granted'),
    justification: justificationRule.optional(),
  })
  .superRefine((level, ctx) => {
    if (level.defaultDuration.minutes > level.maxDuration.minutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultDuration'],
        message: `${formatDuration(level.defaultDuration)} is longer than maxDuration ${formatDuration(level.maxDuration)}`,
      });
    }
    if (
      level.maxExtension &&
      level.maxDuration.minutes + level.maxExtension.minutes > MAX_ACCESS_DURATION.minutes
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxExtension'],
        message: `maxDuration ${formatDuration(level.maxDuration)} plus maxExtension ${formatDuration(level.maxExtension)} exceeds the 24h ceiling on one grant; shorten one of them`,
      });
    }
  });

const hostName = z
  .string()
  .regex(
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    {
      error: 'must be a host name or IPv4 address, e.g. orders.db.internal',
    },
  );

const database = z.strictObject({
  description: z.string().max(300).optional(),
  host: hostName,
  port: z
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be a TCP port, 1 to 65535' })
    .max(65_535, { error: 'must be a TCP port, 1 to 65535' })
    .default(3306),
  flavor: z
    .enum(SERVER_FLAVORS, { error: `must be the server's kind: ${SERVER_FLAVORS.join(', ')}` })
    .describe(
      'The kind of server: sets the user-name limit and how a revocation ends open sessions (mariadb, mysql8, rds-mysql, aurora-mysql)',
    ),
  schema: z
    .string()
    .regex(/^[A-Za-z0-9_$]{1,64}$/, { error: 'must be a MySQL schema name, e.g. orders' })
    .optional()
    .describe('The schema the requester lands in when connecting; the database name when not given'),
  vaultConnection: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
      error: 'must be the name of a Vault database connection, e.g. orders-mysql',
    })
    .describe('The database secrets engine connection that manages this server'),
  environment: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,19}$/, { error: 'must be a short lowercase word such as prod or staging' }),
  levels: namedRecord(accessLevel, 'must map level names to access levels').refine(
    (levels) => Object.keys(levels).length > 0,
    { error: 'must define at least one access level' },
  ),
});

const statusName = z.string().trim().min(1, { error: 'must be the name of a Jira status' });

const global = z.strictObject({
  jira: z.strictObject({
    site: z
      .url({
        protocol: /^https$/,
        error: 'must be the https URL of the Jira site, e.g. https://acme.atlassian.net',
      })
      .transform((url) => url.replace(/\/+$/, '')),
    projectKey: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]{1,9}$/, { error: 'must be a Jira project key such as DBA' }),
    issueType: z.string().trim().min(1, { error: 'must be a Jira issue type such as Task' }),
    statuses: z
      .strictObject({
        approved: statusName,
        denied: statusName,
        granted: statusName,
        closed: statusName,
      })
      .superRefine((statuses, ctx) => {
        const seen = new Map<string, string>();
        for (const [meaning, name] of Object.entries(statuses)) {
          const other = seen.get(name.toLowerCase());
          if (other) {
            ctx.addIssue({
              code: 'custom',
              path: [meaning],
              message: `"${name}" is also the ${other} status; each meaning needs its own status`,
            });
          }
          seen.set(name.toLowerCase(), meaning);
        }
      }),
  }),
  decisionTimeout: durationField(MAX_DECISION_TIMEOUT, '7d').describe(
    'How long a request may wait for a decision before it times out, e.g. 8h',
  ),
  slack: z.strictObject({
    approversChannel: z.string().regex(/^[CG][A-Z0-9]{8,}$/, {
      error: 'must be a Slack channel id such as C0123456789 (not its #name)',
    }),
  }),
  vault: z.strictObject({
    address: z
      .url({
        protocol: /^https?$/,
        error: 'must be the URL requesters reach Vault at, e.g. https://vault.example.com',
      })
      .transform((url) => url.replace(/\/+$/, ''))
      .optional()
      .describe("Where requesters' jit-access reaches Vault (their VAULT_ADDR); shown with the token"),
    wrapTtl: durationField(MAX_WRAP_TTL, '60m').describe(
      'How long the single-use wrapping token sent by DM stays valid, e.g. 5m',
    ),
  }),
});

export const catalogSchema = z.strictObject({
  version: z.literal(1, { error: 'must be 1 (the only catalog format so far)' }),
  global,
  databases: namedRecord(database, 'must map database names to databases').refine(
    (databases) => Object.keys(databases).length > 0,
    { error: 'must define at least one database' },
  ),
});

/** The catalog as the YAML file states it. */
export type CatalogInput = z.input<typeof catalogSchema>;
/** The catalog after validation: durations parsed, defaults applied. */
export type Catalog = z.output<typeof catalogSchema>;
export type DatabaseEntry = Catalog['databases'][string];
export type AccessLevelEntry = DatabaseEntry['levels'][string];
