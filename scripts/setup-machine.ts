/*
 * npm run setup — the Debian packages behind the private MariaDB and Samba AD, installed when
 * missing (as root on Debian or Ubuntu), or the exact command to run. `.ci/run` calls this; the
 * test run's global setup and `npm run demo` do the same thing themselves.
 */
import { ensureSystemPackages, SystemPackagesError } from '../local/system-packages.js';

try {
  const outcome = ensureSystemPackages();
  if (outcome === 'present') console.log('jit-access: MariaDB and Samba are installed; nothing to do.');
} catch (error) {
  if (!(error instanceof SystemPackagesError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
