import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEBIAN_PACKAGES,
  decide,
  ensureSystemPackages,
  isDebianLike,
  type MachineProbe,
  SystemPackagesError,
} from '../../local/system-packages.js';

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n';
const MINT = 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\n';

/** A machine where `installed` are installed (dpkg answers), and installing adds `installs`. */
function machine(options: { root?: boolean; os?: string; installed?: readonly string[]; dpkg?: boolean }) {
  const installed = new Set(options.installed ?? []);
  const probe: MachineProbe & { installed: Set<string> } = {
    installed,
    isRoot: options.root ?? true,
    osRelease: options.os ?? DEBIAN,
    packageInstalled: (name) => (options.dpkg === false ? undefined : installed.has(name)),
    exists: (file) => DEBIAN_PACKAGES.some((pkg) => pkg.probe === file && installed.has(pkg.name)),
  };
  return probe;
}

const ALL = DEBIAN_PACKAGES.map((pkg) => pkg.name);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('isDebianLike', () => {
  it.each([
    ['Debian', DEBIAN, true],
    ['Ubuntu', UBUNTU, true],
    ['Linux Mint (ID_LIKE quoted, two words)', MINT, true],
    ['Fedora', FEDORA, false],
    ['no /etc/os-release (macOS)', undefined, false],
  ])('%s → %s', (_name, os, expected) => {
    expect(isDebianLike(os)).toBe(expected);
  });
});

describe('decide', () => {
  it('does nothing when every package is installed', () => {
    expect(decide(machine({ installed: ALL }))).toEqual({ kind: 'present' });
  });

  it('installs exactly the missing packages, as root on Debian', () => {
    const decision = decide(machine({ installed: ALL.filter((p) => !p.startsWith('samba')) }));
    expect(decision).toEqual({
      kind: 'install',
      packages: ['samba', 'samba-ad-dc', 'samba-ad-provision', 'samba-common-bin'],
      command:
        'apt-get install -y --no-install-recommends samba samba-ad-dc samba-ad-provision samba-common-bin',
    });
  });

  it('falls back to the programs on PATH where dpkg cannot be asked', () => {
    const decision = decide(machine({ installed: ALL.filter((p) => p !== 'socat'), dpkg: false }));
    expect(decision).toMatchObject({ kind: 'install', packages: ['socat'] });
  });

  it('gives a non-root user the sudo command, and says root would install them', () => {
    const decision = decide(machine({ root: false, installed: [] }));
    expect(decision.kind).toBe('refuse');
    if (decision.kind !== 'refuse') return;
    expect(decision.message).toContain(`sudo apt-get install -y --no-install-recommends ${ALL.join(' ')}`);
    expect(decision.message).toMatch(/as root, which installs them itself/);
  });

  it('tells a non-Debian machine what it needs and installs nothing, even as root', () => {
    const decision = decide(machine({ os: FEDORA, installed: ['socat'] }));
    expect(decision.kind).toBe('refuse');
    if (decision.kind !== 'refuse') return;
    expect(decision.message).toMatch(/not Debian or Ubuntu/);
    expect(decision.message).toContain('mariadb-server');
    expect(decision.message).not.toContain(' socat ');
  });
});

describe('ensureSystemPackages', () => {
  function policyPath() {
    const dir = mkdtempSync(join(tmpdir(), 'jit-policy-'));
    dirs.push(dir);
    return join(dir, 'policy-rc.d');
  }

  it('runs apt-get update then install with service starts refused, says so once, and cleans up', () => {
    const probe = machine({ installed: ALL.filter((p) => p !== 'mariadb-server') });
    const policyRc = policyPath();
    const calls: string[] = [];
    const policyDuringInstall: string[] = [];
    const lines: string[] = [];
    const outcome = ensureSystemPackages({
      machine: probe,
      policyRc,
      log: (line) => lines.push(line),
      run: (command, args) => {
        calls.push([command, ...args].join(' '));
        policyDuringInstall.push(existsSync(policyRc) ? readFileSync(policyRc, 'utf8') : 'none');
        if (args[0] === 'install') for (const pkg of args.slice(4)) probe.installed.add(pkg);
        return { status: 0, output: '' };
      },
    });
    expect(outcome).toBe('installed');
    expect(calls).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends mariadb-server',
    ]);
    expect(policyDuringInstall.every((text) => /^exit 101$/m.test(text))).toBe(true);
    expect(existsSync(policyRc)).toBe(false);
    expect(lines.filter((line) => line.includes('apt-get install'))).toEqual([
      'jit-access: installing the Debian packages MariaDB and Samba need, without starting their services: apt-get install -y --no-install-recommends mariadb-server',
    ]);
  });

  it('leaves an existing policy-rc.d as it was', () => {
    const policyRc = policyPath();
    const probe = machine({ installed: ALL.filter((p) => p !== 'socat') });
    writeFileSync(policyRc, '#!/bin/sh\nexit 0\n');
    ensureSystemPackages({
      machine: probe,
      policyRc,
      log: () => {},
      run: (_command, args) => {
        if (args[0] === 'install') probe.installed.add('socat');
        return { status: 0, output: '' };
      },
    });
    expect(readFileSync(policyRc, 'utf8')).toBe('#!/bin/sh\nexit 0\n');
  });

  it('fails with apt-get’s own words and the command to retry when the install fails', () => {
    const policyRc = policyPath();
    const run = ensureSystemPackages.bind(null, {
      machine: machine({ installed: [] }),
      policyRc,
      log: () => {},
      run: (_command, args) =>
        args[0] === 'install'
          ? { status: 100, output: 'E: Unable to locate package samba-ad-provision' }
          : { status: 0, output: '' },
    });
    expect(run).toThrow(SystemPackagesError);
    expect(run).toThrow(/exit 100[\s\S]*Unable to locate package samba-ad-provision/);
    expect(existsSync(policyRc)).toBe(false);
  });

  it('fails when apt-get says yes but the packages are still not there', () => {
    expect(() =>
      ensureSystemPackages({
        machine: machine({ installed: ALL.filter((p) => p !== 'winbind') }),
        policyRc: policyPath(),
        log: () => {},
        run: () => ({ status: 0, output: '' }),
      }),
    ).toThrow(
      'apt-get reported success but these are still missing: winbind. Run: apt-get install -y --no-install-recommends winbind',
    );
  });

  it('throws the message, installing nothing, when it may not install', () => {
    let ran = false;
    expect(() =>
      ensureSystemPackages({
        machine: machine({ root: false, installed: [] }),
        run: () => {
          ran = true;
          return { status: 0, output: '' };
        },
      }),
    ).toThrow(SystemPackagesError);
    expect(ran).toBe(false);
  });
});
