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

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.unusable;
    throw error;
  }
  return exitCode;
}
