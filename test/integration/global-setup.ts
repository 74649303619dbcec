import type { TestProject } from 'vitest/node';
import { type ActiveDirectoryConnection, startActiveDirectory } from '../../local/active-directory.js';
import { type MariaDbConnection, startMariaDb } from '../../local/mariadb.js';
import { ensureSystemPackages, SystemPackagesError } from '../../local/system-packages.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mariadb: MariaDbConnection;
    activeDirectory: ActiveDirectoryConnection;
  }
}

// Started once per test run, stopped at the end: booting either server per test file
// would cost seconds each on a 2-core machine.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // On a fresh machine `npm ci && npm test` is all it takes: the packages install here (as root
  // on Debian/Ubuntu), or the run stops with the one command that would install them.
  try {
    ensureSystemPackages();
  } catch (error) {
    if (error instanceof SystemPackagesError) {
      // Thrown as a plain message: vitest prints it without a stack trace.
      throw Object.assign(new Error(error.message), { stack: error.message });
    }
    throw error;
  }
  const [db, ad] = await Promise.all([startMariaDb(), startActiveDirectory()]);
  project.provide('mariadb', db.connection);
  project.provide('activeDirectory', ad.connection);
  return async () => {
    await Promise.allSettled([db.stop(), ad.stop()]);
  };
}
