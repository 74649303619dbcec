import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import {
  CatalogFileError,
  CatalogValidationError,
  formatProblem,
  loadCatalogFile,
} from '../shared/config/load-catalog.js';
import {
  CredsError,
  type CredsFormat,
  FORMATS,
  formatCredentials,
  unwrapCredentials,
  vaultTargetFrom,
} from './creds.js';
import { connect } from './connect.js';
import { retryRevocation } from './revoke-retry.js';
import { isRequestId } from '../shared/domain/request-id.js';
import { applyVaultSync, formatPlan, planVaultSync, VaultSyncError } from './vault-sync.js';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, invalid: 1, unusable: 2 } as const;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** The environment commands read (VAULT_ADDR…); the process's by default. */
  readonly env?: NodeJS.ProcessEnv;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export async function creds(token: string, format: string, io: CliIo): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(format)) {
    io.err(`--format must be one of ${FORMATS.join(', ')}, not "${format}".`);
    return EXIT.unusable;
  }
  try {
    const unwrapped = await unwrapCredentials(token, vaultTargetFrom(io.env ?? process.env));
    io.out(formatCredentials(unwrapped, format as CredsFormat));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CredsError) {
      io.err(error.message);
      return EXIT.unusable;
    }
    throw error;
  }
}

export function validateConfig(file: string, io: CliIo): number {
  try {
    const catalog = loadCatalogFile(file);
    const databases = Object.values(catalog.databases);
    const levels = databases.reduce((sum, db) => sum + Object.keys(db.levels).length, 0);
    const environments = [...new Set(databases.map((db) => db.environment))].sort().join(', ');
    io.out(
      `${file}: valid — ${databases.length} database${databases.length === 1 ? '' : 's'}, ` +
        `${levels} access level${levels === 1 ? '' : 's'} (${environments})`,
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CatalogValidationError) {
      io.err(`${file}: ${error.problems.length} error${error.problems.length === 1 ? '' : 's'}`);
      for (const problem of error.problems) io.err(formatProblem(problem));
      return EXIT.invalid;
    }
    if (error instanceof CatalogFileError) {
      io.err(error.message);
      return EXIT.unusable;
    }
    throw error;
  }
}

export async function connectCommand(
  token: string,
  clientArgs: readonly string[],
  client: string | undefined,
  io: CliIo,
): Promise<number> {
  try {
    return await connect(token, vaultTargetFrom(io.env ?? process.env), {
      ...(client ? { client } : {}),
      args: clientArgs,
    });
  } catch (error) {
    if (error instanceof CredsError) {
      io.err(error.message);
      return EXIT.unusable;
    }
    throw error;
  }
}

/** The operator's Vault token, found as Vault's own CLI finds it: VAULT_TOKEN, else ~/.vault-token. */
function operatorToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.VAULT_TOKEN?.trim()) return env.VAULT_TOKEN.trim();
  const home = env.HOME;
  if (!home) return undefined;
  try {
    return readFileSync(join(home, '.vault-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function vaultSync(
  file: string,
  options: { apply: boolean; tokenRole?: string },
  io: CliIo,
): Promise<number> {
  const env = io.env ?? process.env;
  try {
    const catalog = loadCatalogFile(file);
    const target = vaultTargetFrom(env);
    const token = operatorToken(env);
    if (!token) {
      io.err('No Vault token: log in with `vault login` (or export VAULT_TOKEN), then run this again.');
      return EXIT.unusable;
    }
    const plan = await planVaultSync(
      catalog,
      target,
      token,
      options.tokenRole ? { tokenRole: options.tokenRole } : {},
    );
    for (const line of formatPlan(plan)) io.out(line);
    if (plan.problems.length > 0) {
      io.err(
        `${plan.problems.length} connection problem${plan.problems.length === 1 ? '' : 's'}: fix ${plan.problems.length === 1 ? 'it' : 'them'} first${options.apply ? '; nothing was written' : ''}.`,
      );
      return EXIT.invalid;
    }
    if (!options.apply) {
      const pending = plan.items.some((item) => item.action !== 'unchanged');
      io.out(
        pending ? 'Run again with --apply to write these changes.' : 'Vault is in sync with the catalog.',
      );
      return EXIT.ok;
    }
    const written = await applyVaultSync(plan, target, token);
    io.out(
      written === 0
        ? 'Nothing to write: Vault is in sync with the catalog.'
        : `Wrote ${written} object${written === 1 ? '' : 's'}.`,
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CatalogValidationError) {
      io.err(
        `${file}: ${error.problems.length} error${error.problems.length === 1 ? '' : 's'}; run validate-config`,
      );
      for (const problem of error.problems) io.err(formatProblem(problem));
      return EXIT.invalid;
    }
    if (error instanceof CatalogFileError || error instanceof CredsError || error instanceof VaultSyncError) {
      io.err(error.message);
      return EXIT.unusable;
    }
    throw error;
  }
}

export async function revokeRetry(
  requestId: string,
  options: { function: string; region?: string },
  io: CliIo,
): Promise<number> {
  const env = io.env ?? process.env;
  const id = requestId.toUpperCase();
  if (!isRequestId(id)) {
    io.err(`${requestId} is not a request id: give the REQ-… id from the request's messages or ticket.`);
    return EXIT.unusable;
  }
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = env.AWS_ENDPOINT_URL_LAMBDA ?? env.AWS_ENDPOINT_URL;
  const outcome = await retryRevocation(id, {
    functionName: options.function,
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
  });
  switch (outcome.kind) {
    case 'done':
      io.out(
        `${id}: the worker retried it without an error. If a revocation was pending, the user is gone and the grant ended; the request's audit trail shows the attempt.`,
      );
      return EXIT.ok;
    case 'failed':
      io.err(`${id}: the revocation failed again: ${outcome.message}. Fix that, then run this again.`);
      return EXIT.invalid;
    case 'unreachable':
      io.err(
        `Could not invoke ${options.function}: ${outcome.message}. Check the function name, the region and your AWS credentials (lambda:InvokeFunction).`,
      );
      return EXIT.unusable;
  }
}

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command()
    .name('jit-access')
    .description('Just-in-time MySQL access: catalog checks and credential delivery')
    .version(packageJson.version, '-V, --version', 'print the version of jit-access')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('validate-config')
    .description('check a jit-access.config.yaml catalog; exit 0 valid, 1 invalid, 2 unreadable or not YAML')
    .argument('<file>', 'the catalog file')
    .action((file: string) => {
      exitCode = validateConfig(file, io);
    });

  program
    .command('creds')
    .description('open the single-use token from your Slack message and print the temporary credentials')
    .argument('<token>', 'the token from the Slack message')
    .option('--format <format>', `how to print them: ${FORMATS.join(', ')}`, 'env')
    .action(async (token: string, options: { format: string }) => {
      exitCode = await creds(token, options.format, io);
    });

  program
    .command('connect')
    .description(
      'open the token and start the mariadb/mysql client as the temporary user (the password never on a command line); arguments after -- go to the client',
    )
    .argument('<token>', 'the token from the Slack message')
    .argument('[clientArgs...]', 'arguments for the client, after --')
    .option('--client <path>', 'the client to start (default: mariadb, else mysql, on PATH)')
    .action(async (token: string, clientArgs: string[], options: { client?: string }) => {
      exitCode = await connectCommand(token, clientArgs, options.client, io);
    });

  program
    .command('vault')
    .description('operator commands for the Vault setup jit-access needs')
    .command('sync')
    .description(
      "compare Vault's roles, policies and token role with the catalog and show the plan; --apply writes it (connections are only checked)",
    )
    .argument('<file>', 'the catalog file')
    .option('--apply', 'write the planned changes', false)
    .option('--token-role <name>', 'the token role requester tokens are made through', undefined)
    .action(async (file: string, options: { apply: boolean; tokenRole?: string }) => {
      exitCode = await vaultSync(file, options, io);
    });

  program
    .command('revoke')
    .description(
      'operators: retry a revocation that kept failing, now, once its cause is fixed (invokes the deployed worker)',
    )
    .argument('<requestId>', 'the request whose revocation to retry, e.g. REQ-0K2M9Q7X')
    .requiredOption('--retry', 'retry the pending revocation (the only action so far)')
    .requiredOption('--function <name>', "the worker Lambda's name or ARN")
    .option('--region <region>', 'its AWS region (default: AWS_REGION)')
    .action(async (requestId: string, options: { function: string; region?: string }) => {
      exitCode = await revokeRetry(requestId, options, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.unusable;
    throw error;
  }
  return exitCode;
}
