import { describe, expect, it } from 'vitest';
import { grantProblem } from '../../../shared/config/grant-grammar.js';

describe('grantProblem', () => {
  it.each([
    "GRANT SELECT ON orders.* TO '{{name}}'@'%'",
    "grant select on orders.* to '{{name}}'@'%'",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON orders.* TO '{{name}}'@'%'",
    "GRANT SELECT (id, status) ON orders.events TO '{{name}}'@'10.0.%'",
    "GRANT EXECUTE ON PROCEDURE orders.refund TO '{{username}}'@'%'",
    "GRANT SELECT ON `orders-db`.`order events` TO '{{name}}'@'%'",
    "GRANT SHOW VIEW, LOCK TABLES ON orders.* TO '{{ name }}'@'%'",
    "GRANT ALL PRIVILEGES ON billing.* TO '{{name}}'@'%'",
    "GRANT PROCESS ON *.* TO '{{name}}'@'%'",
    "  GRANT SELECT ON orders.*\n  TO '{{name}}'@'%'  ",
  ])('accepts %j', (statement) => {
    expect(grantProblem(statement)).toBeUndefined();
  });

  it.each([
    [
      "GRANT SELECT ON orders.* TO '{{name}}'@'%'; DROP DATABASE orders",
      'has a second statement after ";" ("DROP DATABASE orders"); a grant is exactly one GRANT statement',
    ],
    [
      "GRANT SELECT ON orders.* TO '{{name}}'@'%';",
      'ends with ";"; write the grant without it (Vault splits statements on ";")',
    ],
    [
      "GRANT SELECT ON orders.* TO '{{name}}'@'%' -- read only",
      'contains a comment ("-- read only"); a grant is one statement with nothing else in it',
    ],
    ["GRANT SELECT ON orders.* TO '{{name}}'@'%' # note", 'contains a comment ("# note")'],
    ["GRANT SELECT /* x */ ON orders.* TO '{{name}}'@'%'", 'contains a comment ("/* x */ ON'],
    [
      "GRANT SELECT ON orders.* TO '{{name}}'@'%', 'mallory'@'%'",
      `has ", 'mallory'@'%'" after the grantee; a grant ends with TO '{{name}}'@'<host>'`,
    ],
    ["GRANT SELECT ON orders.* TO '{{name}}'@'%' WITH GRANT OPTION", 'must not give GRANT OPTION'],
    ["GRANT GRANT OPTION ON orders.* TO '{{name}}'@'%'", 'must not give GRANT OPTION'],
    ["GRANT SUPER ON *.* TO '{{name}}'@'%'", 'must not give SUPER'],
    ["GRANT SELECT, FILE ON *.* TO '{{name}}'@'%'", 'must not give FILE'],
    ["GRANT CREATE USER ON *.* TO '{{name}}'@'%'", 'must not give CREATE USER'],
    [
      "GRANT SELEKT ON orders.* TO '{{name}}'@'%'",
      'grants "SELEKT", which is not a privilege jit-access knows',
    ],
    ["GRANT 'admin' TO '{{name}}'@'%'", 'must name at least one privilege'],
    ["GRANT SELECT ON orders.* TO 'mallory'@'%'", "must grant to the temporary user, e.g. TO '{{name}}'@'%'"],
    ["GRANT SELECT ON orders.* TO '{{name}}'", "must name the host too, e.g. TO '{{name}}'@'%'"],
    ["GRANT SELECT TO '{{name}}'@'%'", 'must name what it grants on, e.g. ON orders.*'],
    ['CREATE USER x', 'must be a GRANT statement'],
    ["REVOKE SELECT ON orders.* FROM '{{name}}'@'%'", 'must be a GRANT statement'],
    ["GRANT SELECT ON orders.* TO '{{name}}'@'%\\' OR 1", 'has a backslash'],
    ["GRANT SELECT ON `orders.* TO '{{name}}'@'%'", 'has a `backtick` name that is never closed'],
  ])('refuses %j: %s', (statement, problem) => {
    expect(grantProblem(statement)).toContain(problem);
  });
});
