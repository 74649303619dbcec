/*
 * npm run dev — the real handlers served on loopback until Ctrl-C or SIGTERM (local/dev). Reads
 * `.env` when there is one (see .env.example); every connector not configured there is emulated.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../shared/config/env.js';
import { parseDevConfig } from '../local/dev/dev-config.js';
import { type DevServer, startDevServer } from '../local/dev/dev-server.js';
import { SystemPackagesError } from '../local/system-packages.js';
import { wantsColour } from '../local/demo/timeline.js';

const envFile = process.env.DEV_ENV_FILE ?? '.env';
if (existsSync(envFile)) process.loadEnvFile(envFile);
else if (process.env.DEV_ENV_FILE) {
  console.error(`npm run dev: DEV_ENV_FILE names ${envFile}, which does not exist`);
  process.exit(2);
}

const write = (line: string) => process.stdout.write(`${line}\n`);
let server: DevServer | undefined;
let stopping = false;

async function shutdown(signal: string): Promise<void> {
  // Ctrl-C arrives twice (from the terminal, and relayed by tsx): the first one stops.
  if (stopping) return;
  stopping = true;
  write(`\n${signal}: stopping the servers…`);
  // Still starting: the start below sees `stopping` and stops what it started.
  if (!server) return;
  await server.stop();
  write('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const config = parseDevConfig(process.env);
  write(
    `jit-access dev: ${existsSync(envFile) ? `settings from ${envFile}` : 'no .env, so every connector is emulated'}; starting…`,
  );
  server = await startDevServer(config, { write, colour: wantsColour(process.stdout, process.env) });
  if (stopping) {
    await server.stop();
    write('stopped.');
    process.exit(0);
  }
  for (const line of server.banner) write(line);
} catch (error) {
  if (error instanceof ConfigError || error instanceof SystemPackagesError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`npm run dev could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
