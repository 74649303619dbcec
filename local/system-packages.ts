import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { findBinary } from './require-binary.js';

/*
 * The Debian packages behind the private servers the tests, the demo and `npm run dev` start:
 * MariaDB, and Samba as an AD DC (in its own network namespace, bridged by socat). The one list
 * of them: `.ci/run`, the test run's global setup and the demo all come here.
 */

/** Each package, and a file that is there once it is installed (where dpkg cannot be asked). */
export const DEBIAN_PACKAGES: readonly { readonly name: string; readonly probe: string }[] = [
  { name: 'mariadb-server', probe: 'mariadbd' },
  { name: 'mariadb-client', probe: 'mariadb' },
  { name: 'samba', probe: 'smbd' },
  { name: 'samba-ad-dc', probe: 'samba' },
  { name: 'samba-ad-provision', probe: '/usr/share/samba/setup/ad-schema' },
  { name: 'samba-common-bin', probe: 'samba-tool' },
  { name: 'winbind', probe: 'winbindd' },
  { name: 'krb5-user', probe: 'kinit' },
  { name: 'socat', probe: 'socat' },
  { name: 'iproute2', probe: 'ip' },
  { name: 'util-linux', probe: 'unshare' },
];

/** What the machine is, as far as installing goes; injected so every branch is tested. */
export interface MachineProbe {
  readonly isRoot: boolean;
  /** /etc/os-release, when there is one. */
  readonly osRelease: string | undefined;
  /** dpkg's answer (true/false), or undefined where there is no dpkg. */
  packageInstalled(name: string): boolean | undefined;
  /** A program on PATH (or the sbin directories), or an absolute file that exists. */
  exists(probe: string): boolean;
}

export const thisMachine: MachineProbe = {
  isRoot: process.getuid?.() === 0,
  osRelease: existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : undefined,
  packageInstalled(name) {
    if (!findBinary('dpkg-query')) return undefined;
    const answer = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return answer.status === 0 && answer.stdout.includes('install ok installed');
  },
  exists: (probe) => (probe.startsWith('/') ? existsSync(probe) : findBinary(probe) !== undefined),
};

export function missingPackages(machine: MachineProbe = thisMachine): string[] {
  return DEBIAN_PACKAGES.filter((pkg) => {
    const installed = machine.packageInstalled(pkg.name);
    return installed === undefined ? !machine.exists(pkg.probe) : !installed;
  }).map((pkg) => pkg.name);
}

export function isDebianLike(osRelease: string | undefined): boolean {
  if (!osRelease) return false;
  const field = (key: string) =>
    new RegExp(`^${key}=(.*)$`, 'm')
      .exec(osRelease)?.[1]
      ?.replace(/^["']|["']$/g, '')
      .split(/\s+/) ?? [];
  return [...field('ID'), ...field('ID_LIKE')].some((id) => id === 'debian' || id === 'ubuntu');
}

export function installCommand(packages: readonly string[]): string {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/** The packages are missing and this process may not (or cannot) install them. */
export class SystemPackagesError extends Error {
  constructor(
    message: string,
    readonly packages: readonly string[],
  ) {
    super(message);
    this.name = 'SystemPackagesError';
  }
}

export type PackageDecision =
  | { readonly kind: 'present' }
  | { readonly kind: 'install'; readonly packages: readonly string[]; readonly command: string }
  | { readonly kind: 'refuse'; readonly packages: readonly string[]; readonly message: string };

/** What to do about the packages on this machine: nothing, install them, or say how. */
export function decide(machine: MachineProbe = thisMachine): PackageDecision {
  const packages = missingPackages(machine);
  if (packages.length === 0) return { kind: 'present' };
  const command = installCommand(packages);
  const what = `MariaDB and Samba (the private database and Active Directory the tests, the demo and npm run dev start) need these Debian packages, not installed here: ${packages.join(' ')}.`;
  if (!isDebianLike(machine.osRelease)) {
    return {
      kind: 'refuse',
      packages,
      message: `${what} This is not Debian or Ubuntu, so jit-access will not install them itself. On Debian or Ubuntu, as root: ${command} (any machine with MariaDB 10.6+ and Samba 4.15+ as an AD DC, socat, iproute2 and util-linux works too).`,
    };
  }
  if (!machine.isRoot) {
    return {
      kind: 'refuse',
      packages,
      message: `${what} Install them as root: sudo ${command} — or run npm test / npm run demo as root, which installs them itself (Samba needs root to run in its own network namespace anyway).`,
    };
  }
  return { kind: 'install', packages, command };
}

/** Runs a command with the terminal's output hidden; returns its exit status and output's tail. */
export type CommandRunner = (command: string, args: readonly string[]) => { status: number; output: string };

const runQuietly: CommandRunner = (command, args) => {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-4000) };
};

const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * Makes sure the packages are there: returns at once when they are; installs them when this is
 * Debian or Ubuntu and we are root (saying so once, with the command); otherwise throws a
 * SystemPackagesError whose message is the exact command. The install must not start the
 * system's MariaDB or Samba (the private servers use their own ports and directories), so a
 * policy-rc.d that refuses every service start is in place while apt-get runs.
 */
export function ensureSystemPackages(
  options: {
    log?: (line: string) => void;
    machine?: MachineProbe;
    run?: CommandRunner;
    /** Where invoke-rc.d and deb-systemd-invoke look for the policy; tests point it elsewhere. */
    policyRc?: string;
  } = {},
): 'present' | 'installed' {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machine = options.machine ?? thisMachine;
  const run = options.run ?? runQuietly;
  const policyRc = options.policyRc ?? POLICY_RC;
  const decision = decide(machine);
  if (decision.kind === 'present') return 'present';
  if (decision.kind === 'refuse') throw new SystemPackagesError(decision.message, decision.packages);

  log(
    `jit-access: installing the Debian packages MariaDB and Samba need, without starting their services: ${decision.command}`,
  );
  const ownPolicy = !existsSync(policyRc);
  if (ownPolicy) {
    writeFileSync(
      policyRc,
      '#!/bin/sh\n# jit-access: no service starts while its packages install\nexit 101\n',
    );
    chmodSync(policyRc, 0o755);
  }
  try {
    const update = run('apt-get', ['update', '-qq']);
    if (update.status !== 0)
      throw new SystemPackagesError(
        `apt-get update failed (exit ${update.status}); fix the package sources, then run: ${decision.command}\n${update.output}`,
        decision.packages,
      );
    const install = run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...decision.packages]);
    if (install.status !== 0)
      throw new SystemPackagesError(
        `${decision.command} failed (exit ${install.status}):\n${install.output}`,
        decision.packages,
      );
  } finally {
    if (ownPolicy) rmSync(policyRc, { force: true });
  }
  const still = missingPackages(machine);
  if (still.length > 0)
    throw new SystemPackagesError(
      `apt-get reported success but these are still missing: ${still.join(' ')}. Run: ${installCommand(still)}`,
      still,
    );
  log('jit-access: the packages are installed.');
  return 'installed';
}
