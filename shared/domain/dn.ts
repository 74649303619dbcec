/** DNs compare case-insensitively and ignore spaces around separators. */
export function normalizeDn(dn: string): string {
  return dn
    .trim()
    .split(/\s*,\s*/)
    .map((rdn) => rdn.replace(/\s*=\s*/, '='))
    .join(',')
    .toLowerCase();
}

/** `CN=db-readers,OU=Groups,…` → `db-readers`: the name people know a group by. */
export function commonName(dn: string): string {
  const first = dn.split(/(?<!\\),/)[0] ?? dn;
  return first.replace(/^\s*cn\s*=\s*/i, '').replace(/\\(.)/g, '$1');
}
