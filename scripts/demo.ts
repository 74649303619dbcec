/*
 * npm run demo [-- --keep] [-- --logs] — the whole loop on this machine, with nothing but
 * `npm ci` done first: the private MariaDB and Samba AD (their Debian packages installed when
 * missing, as root), the local stack with the Slack, Jira and Vault emulators, and the story of
 * local/demo/story.ts told as a timeline. Exits 0 only if every step held; stops everything it
 * started, also on Ctrl-C. --keep leaves the stack running and says how to talk to it.
 */
import { startActiveDirectory, type ActiveDirectoryHandle } from '../local/active-directory.js';
import { playStory, STORY_STEP_COUNT, type StoryStep } from '../local/demo/story.js';
import { timelineHeader, timelineLine, timelineSummary, wantsColour } from '../local/demo/timeline.js';
import { demoPeople, worldStack } from '../local/demo/world.js';
import { type MariaDbHandle, startMariaDb } from '../local/mariadb.js';
import { ReadableLogger } from '../local/readable-logger.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { ensureSystemPackages, SystemPackagesError } from '../local/system-packages.js';
import { Logger } from '@aws-lambda-powertools/logger';

const args = new Set(process.argv.slice(2));
if (args.has('--help') || args.has('-h')) {
  console.log(`npm run demo [-- --keep] [-- --logs]

Plays the whole jit-access loop on this machine: alice asks in Slack, bob approves in Jira, the
token DM, jit-access creds, a login that may SELECT and not INSERT, refused approvers, a
two-approval request, an early revoke and an expiry — on a private MariaDB and Samba AD, with the
Slack, Jira and Vault emulators. Exits 0 only if every step held.

  --keep   leave the stack running afterwards (Ctrl-C stops it)
  --logs   print the Lambdas' log lines as they happen`);
  process.exit(0);
}
for (const arg of args) {
  if (!['--keep', '--logs'].includes(arg)) {
    console.error(`npm run demo: unknown option ${arg}; the options are --keep and --logs (see --help)`);
    process.exit(2);
  }
}

const style = { colour: wantsColour(process.stdout, process.env) };
const out = (line: string) => process.stdout.write(`${line}\n`);
const owned: { db?: MariaDbHandle; ad?: ActiveDirectoryHandle; stack?: LocalStack } = {};
let stopping: Promise<void> | undefined;

/** Stops what the demo started, once, whichever way it ends. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await owned.stack?.stop().catch(() => undefined);
    await Promise.allSettled([owned.db?.stop(), owned.ad?.stop()]);
  })();
  return stopping;
}

// `on`, not `once`: Ctrl-C reaches this process twice (from the terminal, and relayed by tsx), and
// a second signal with no handler would kill it before the servers and their directories are gone.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    out('\nstopping: the stack, MariaDB and Samba AD');
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

async function main(): Promise<number> {
  try {
    const installing = performance.now();
    if (ensureSystemPackages({ log: out }) === 'installed')
      out(
        `(a one-time install: ${((performance.now() - installing) / 1000).toFixed(1)} s, not counted below)`,
      );
  } catch (error) {
    if (!(error instanceof SystemPackagesError)) throw error;
    console.error(error.message);
    return 1;
  }
  const started = performance.now();
  out('jit-access demo: starting a private MariaDB and Samba AD, then the local stack…');
  const [db, ad] = await Promise.all([startMariaDb(), startActiveDirectory()]);
  owned.db = db;
  owned.ad = ad;
  let offset = 0;
  const logger = args.has('--logs')
    ? (service: string) => new ReadableLogger(service, { write: out, colour: style.colour })
    : (service: string) => new Logger({ serviceName: service, logLevel: 'SILENT' });
  const stack = await startLocalStack({
    ...worldStack(ad.connection, demoPeople(ad.connection)),
    database: db.connection,
    clock: { now: () => new Date(Date.now() + offset) },
    logger,
    reconcileEveryMs: 60_000,
  });
  owned.stack = stack;
  const setupMs = performance.now() - started;
  out(`ready in ${(setupMs / 1000).toFixed(1)} s; the story:\n`);
  out(timelineHeader(style));
  const steps: StoryStep[] = await playStory(stack, {
    skipTo: (at) => {
      offset = Math.max(offset, at.getTime() - Date.now());
    },
    onStep: (step) => out(timelineLine(step, style)),
  });
  out('');
  out(timelineSummary(steps, STORY_STEP_COUNT, { setupMs, totalMs: performance.now() - started }, style));
  const passed = steps.length === STORY_STEP_COUNT && steps.every((s) => s.ok);
  if (args.has('--keep')) {
    out(`
The stack keeps running (Ctrl-C stops it):
  Slack slash command   POST ${stack.urls.slackCommands}
  Slack interactivity   POST ${stack.urls.slackInteractivity}
  Jira webhook          POST ${stack.urls.jiraWebhook}
  Slack requests are signed with the local signing secret ${stack.signingSecret}
  Vault (emulated)      VAULT_ADDR=${stack.vault.url} npx jit-access creds <token>
  MariaDB               ${db.connection.host}:${db.connection.port} (private and throwaway: log in with what jit-access creds prints)
For a server that prints every request, and connects to a real Slack app, use npm run dev.`);
    await new Promise<never>(() => {});
  }
  return passed ? 0 : 1;
}

main()
  .catch((error: unknown) => {
    console.error(`demo could not run: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  })
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  });
