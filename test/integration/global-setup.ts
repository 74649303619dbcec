import type { TestProject } from 'vitest/node';
import { type ActiveDirectoryConnection, startActiveDirectory } from '../../local/active-directory.js';
import { type MariaDbConnection, startMariaDb } from '../../local/mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mariadb: MariaDbConnection;
    activeDirectory: ActiveDirectoryConnection;
  }
}

// Started once per test run, stopped at the end: booting either server per test file
// would cost seconds each on a 2-core machine.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [db, ad] = await Promise.all([startMariaDb(), startActiveDirectory()]);
  project.provide('mariadb', db.connection);
  project.provide('activeDirectory', ad.connection);
  return async () => {
    await Promise.allSettled([db.stop(), ad.stop()]);
  };
}
