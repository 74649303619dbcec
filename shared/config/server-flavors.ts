/*
 * What differs between the MySQL servers jit-access hands out users on: how long a user name may
 * be (so the Vault connection's username template fits) and how a revocation ends the sessions a
 * dropped user still has open (DROP USER leaves them working on every flavour).
 */

export const SERVER_FLAVORS = ['mariadb', 'mysql8', 'rds-mysql', 'aurora-mysql'] as const;
export type ServerFlavor = (typeof SERVER_FLAVORS)[number];

/**
 * The procedure the DBA installs on MySQL 8, RDS and Aurora (docs/credentials.md gives it): those
 * servers have no `KILL USER`, so revocation calls it to kill each of the user's processlist ids.
 */
export const KILL_SESSIONS_PROCEDURE = 'jit_access.kill_user_sessions';

export interface FlavorTraits {
  readonly label: string;
  /** The server's user-name limit in characters (MySQL 8 32; the RDS/Aurora legacy plugins 16). */
  readonly maxUserName: number;
  /** The Vault database plugin the connection uses for this flavour. */
  readonly vaultPlugin: string;
  /**
   * Run by Vault for every revocation (schedule, reconcile, the lease's own TTL): drop the user if
   * it still exists, so a second revocation is not an error loop (1396), then end its sessions.
   */
  readonly revocationStatements: readonly string[];
}

export const FLAVORS: Record<ServerFlavor, FlavorTraits> = {
  mariadb: {
    label: 'MariaDB',
    maxUserName: 80,
    vaultPlugin: 'mysql-database-plugin',
    revocationStatements: ["DROP USER IF EXISTS '{{name}}'@'%'", "KILL CONNECTION USER '{{name}}'"],
  },
  mysql8: {
    label: 'MySQL 8',
    maxUserName: 32,
    vaultPlugin: 'mysql-database-plugin',
    revocationStatements: [
      "DROP USER IF EXISTS '{{name}}'@'%'",
      `CALL ${KILL_SESSIONS_PROCEDURE}('{{name}}')`,
    ],
  },
  'rds-mysql': {
    label: 'Amazon RDS for MySQL',
    maxUserName: 16,
    vaultPlugin: 'mysql-rds-database-plugin',
    revocationStatements: [
      "DROP USER IF EXISTS '{{name}}'@'%'",
      `CALL ${KILL_SESSIONS_PROCEDURE}('{{name}}')`,
    ],
  },
  'aurora-mysql': {
    label: 'Amazon Aurora MySQL',
    maxUserName: 16,
    vaultPlugin: 'mysql-aurora-database-plugin',
    revocationStatements: [
      "DROP USER IF EXISTS '{{name}}'@'%'",
      `CALL ${KILL_SESSIONS_PROCEDURE}('{{name}}')`,
    ],
  },
};

/** The statements that create the temporary user of a level: the user, then the level's grants. */
export function creationStatements(grants: readonly string[]): string[] {
  return ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'", ...grants];
}
