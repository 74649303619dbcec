import { randomBytes } from 'node:crypto';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// Started once for the whole run by test/integration/global-setup.ts; booting one per file costs seconds.
const db = inject('mariadb');

// Random suffixes: other test files share this server and may run at the same time.
const unique = () => randomBytes(5).toString('hex');
const schema = `jit_t_${unique()}`;
const otherSchema = `${schema}_other`;
const usersCreated: string[] = [];

let admin: Connection;

function connectAs(user: string, password: string, database?: string): Promise<Connection> {
  // 127.0.0.1 over TCP, as a real client would reach RDS; a socket login would match 'u'@'localhost'.
  return createConnection({ host: db.host, port: db.port, user, password, database, connectTimeout: 5_000 });
}

async function createReadOnlyUser(): Promise<{ user: string; password: string }> {
  const user = `jit_t_${unique()}`;
  const password = randomBytes(16).toString('base64url');
  usersCreated.push(user);
  await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
  await admin.query(`GRANT SELECT ON \`${schema}\`.\`things\` TO ?@'%'`, [user]);
  return { user, password };
}

async function rows(connection: Connection, sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  const [result] = await connection.query<RowDataPacket[]>(sql, values);
  return result;
}

beforeAll(async () => {
  admin = await connectAs(db.user, db.password);
  await admin.query(`CREATE DATABASE \`${schema}\``);
  await admin.query(`CREATE TABLE \`${schema}\`.things (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)`);
  await admin.query(`INSERT INTO \`${schema}\`.things VALUES (1, 'first')`);
  await admin.query(`CREATE DATABASE \`${otherSchema}\``);
  await admin.query(`CREATE TABLE \`${otherSchema}\`.secrets (id INT PRIMARY KEY)`);
});

afterAll(async () => {
  if (!admin) return;
  for (const user of usersCreated) await admin.query(`DROP USER IF EXISTS ?@'%'`, [user]);
  await admin.query(`DROP DATABASE IF EXISTS \`${schema}\``);
  await admin.query(`DROP DATABASE IF EXISTS \`${otherSchema}\``);
  await admin.end();
});

describe('private MariaDB server', () => {
  it('is a real MariaDB reachable by the admin over TCP and over its socket', async () => {
    const [tcp] = await rows(admin, 'SELECT VERSION() AS version');
    expect(tcp?.version).toMatch(/MariaDB/);

    const overSocket = await createConnection({
      socketPath: db.socketPath,
      user: db.user,
      password: db.password,
    });
    try {
      const [row] = await rows(overSocket, 'SELECT CURRENT_USER() AS account');
      expect(row?.account).toBe(`${db.user}@localhost`);
    } finally {
      await overSocket.end();
    }
  });

  it('lets a temporary user log in over TCP and SELECT only the table it was granted', async () => {
    const { user, password } = await createReadOnlyUser();
    const session = await connectAs(user, password);
    try {
      // The grant is on '%': a TCP login must not be matched to a 'localhost' account.
      expect(await rows(session, 'SELECT CURRENT_USER() AS account')).toEqual([{ account: `${user}@%` }]);
      expect(await rows(session, `SELECT id, name FROM \`${schema}\`.things`)).toEqual([
        { id: 1, name: 'first' },
      ]);

      await expect(
        session.query(`INSERT INTO \`${schema}\`.things VALUES (2, 'second')`),
      ).rejects.toMatchObject({
        errno: 1142,
        code: 'ER_TABLEACCESS_DENIED_ERROR',
      });
      await expect(session.query(`SELECT * FROM \`${otherSchema}\`.secrets`)).rejects.toMatchObject({
        errno: 1142,
        code: 'ER_TABLEACCESS_DENIED_ERROR',
      });
      await expect(session.query(`USE \`${otherSchema}\``)).rejects.toMatchObject({
        errno: 1044,
        code: 'ER_DBACCESS_DENIED_ERROR',
      });
    } finally {
      await session.end();
    }
    await expect(connectAs(user, password, otherSchema)).rejects.toMatchObject({ errno: 1044 });
  });

  it('refuses a wrong password', async () => {
    const { user } = await createReadOnlyUser();
    await expect(connectAs(user, 'not-the-password')).rejects.toMatchObject({
      errno: 1045,
      code: 'ER_ACCESS_DENIED_ERROR',
    });
  });

  it('refuses new logins after DROP USER, but leaves open sessions connected', async () => {
    const { user, password } = await createReadOnlyUser();
    const session = await connectAs(user, password);
    try {
      await admin.query(`DROP USER ?@'%'`, [user]);

      await expect(connectAs(user, password)).rejects.toMatchObject({ errno: 1045 });
      // Why revocation must also kill sessions: the dropped user's connection is still alive.
      expect(await rows(session, 'SELECT 1 AS alive')).toEqual([{ alive: 1 }]);
      await expect(session.query(`SELECT * FROM \`${schema}\`.things`)).rejects.toMatchObject({
        errno: 1142,
      });
    } finally {
      session.destroy();
    }
  });

  it('ends every open session of a user with KILL USER', async () => {
    const { user, password } = await createReadOnlyUser();
    const sessions = [await connectAs(user, password), await connectAs(user, password)];
    // A killed connection also emits 'error'; without a listener that would be an uncaught exception.
    for (const session of sessions) session.on('error', () => undefined);
    const countSessions = async () =>
      (
        await rows(admin, 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user])
      )[0]?.n;
    try {
      expect(await countSessions()).toBe(2);

      await admin.query(`KILL USER ?@'%'`, [user]);

      // The killed threads leave the process list asynchronously.
      await expect.poll(countSessions, { timeout: 5_000, interval: 50 }).toBe(0);
      for (const session of sessions) await expect(session.query('SELECT 1')).rejects.toThrow();
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});
