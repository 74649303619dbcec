/*
 * The names jit-access gives its Vault objects. Apart from the adapter, so the CLI (`vault sync`)
 * shares them without bundling a Vault client.
 */

/** The token role requester tokens are created through (`jit-access vault sync` writes it). */
export const DEFAULT_TOKEN_ROLE = 'jit-access-requester';

/** The Vault database role and policy of a catalog level, as `jit-access vault sync` names them. */
export function vaultRoleName(database: string, level: string): string {
  return `jit-${database}-${level}`;
}
