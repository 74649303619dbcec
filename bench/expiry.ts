/**
 * npm run bench:expiry — what the end of a grant costs.
 *
 * - Revoke lag: on the local stack (worker-expiry.test.ts's setup: the Scheduler emulator the
 *   worker's real Scheduler client wrote to, the SNS emulator topic, the Vault emulator on a
 *   private MariaDB), from the moment the expiry schedule fires until the user is gone and a login
 *   is refused. p50/p99 over LAG_GRANTS. EventBridge's own firing delay (seconds, at most a
 *   minute) is AWS's and not in it.
 * - Revoke throughput on one MariaDB, 1, 4 and 8 at a time: VaultCredentialBroker.revoke (sys/leases/revoke, which runs
 *   the role's DROP USER IF EXISTS + KILL CONNECTION USER) against the Vault emulator in its own
 *   process, against the floor of running those two statements over a pooled admin connection,
 *   same count, same concurrency, same run, in alternating rounds.
 * - Reconcile over 10,000 stored requests of which 100 are due (DynamoDB through dynalite, seeded
 *   with the store's own item layout): one run's wall time.
 * Writes bench/results/expiry.json and prints a table. Not a test: numbers vary by machine.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createConnection, createPool } from 'mysql2/promise';
import { startActiveDirectory } from '../local/active-directory.js';
import { startMariaDb } from '../local/mariadb.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { DynamoDbRequestStore, requestItemOf } from '../shared/adapters/dynamodb/dynamodb-request-store.js';
import { createRequestTable } from '../shared/adapters/dynamodb/request-table.js';
import type { AccessRequest } from '../shared/domain/access-request.js';
import type { RequestState } from '../shared/domain/lifecycle.js';
import { reconcile } from '../shared/use-cases/reconcile.js';
import { loadCatalogFile } from '../shared/config/load-catalog.js';
import { InProcessScheduler } from '../local/in-process-scheduler.js';
import {
  FakeChatIdentity,
  FakeDirectory,
  RecordingNotifier,
  RecordingTicketTracker,
} from '../test/fakes/recording-ports.js';
import { accessRequest } from '../test/fixtures/access-request.js';
import { decisionPeople, decisionStack, submittedBy, buttonClick } from '../test/fixtures/decision-stack.js';
import { servedBroker, serveVaultEmulator } from './served-vault.js';
import { desiredVaultState } from '../bin/vault-sync.js';
import { vaultRoleName } from '../shared/adapters/vault/vault-names.js';
import { msSince, percentile, round, summary, throughput } from './stats.js';

const root = join(import.meta.dirname, '..');
const LAG_GRANTS = Number(process.env.BENCH_LAG_GRANTS ?? 50);
/** Revocations per round; ROUNDS rounds per concurrency level, for each side. */
const ROUND = Number(process.env.BENCH_REVOKE_ROUND ?? 200);
const ROUNDS = 6;
/** One worker at a time, a few, and a burst of expiries with the worker scaled out. */
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,4,8').split(',').map(Number);
const STORED = Number(process.env.BENCH_STORED ?? 10_000);
const DUE = 100;
const quietLogger = (service: string) => new Logger({ serviceName: service, logLevel: 'ERROR' });

async function main(): Promise<void> {
  const benchStart = process.hrtime.bigint();
  const [adHandle, dbHandle] = await Promise.all([startActiveDirectory(), startMariaDb()]);
  const ad = adHandle.connection;
  const db = dbHandle.connection;
  const PEOPLE = decisionPeople(ad);
  // Real time plus an offset the bench moves to each grant's end.
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset) };
  const pool = createPool({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    connectionLimit: Math.max(...CONCURRENCIES),
  });
  let stack: LocalStack | undefined;
  try {
    await pool.query('CREATE DATABASE IF NOT EXISTS orders');
    stack = await startLocalStack({
      ...decisionStack(ad, ['alice', 'bob']),
      database: db,
      clock,
      topic: 'sns',
      logger: quietLogger,
      redeliverOnError: 0,
    });
    const store = stack.store();

    // ---- 1. revoke lag ---------------------------------------------------------------------------
    const lags: number[] = [];
    for (let i = 0; i < LAG_GRANTS; i++) {
      const command = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clock.now());
      await stack.topic.publish(command);
      await stack.settle();
      await stack.ack(
        buttonClick(stack, {
          slackId: PEOPLE.bob.slackId,
          actionId: 'request.approve',
          requestId: command.requestId,
        }),
        {},
      );
      await stack.settle();
      const granted = (await store.get(command.requestId)) as AccessRequest;
      if (granted.state !== 'GRANTED' || !granted.grant)
        throw new Error(`${command.requestId} is ${granted.state}`);
      const username = granted.grant.username;
      // The clock jumps to the end; the lag runs from the firing to the user gone.
      offset += Date.parse(granted.grant.expiresAt) + 1000 - clock.now().getTime();
      const start = process.hrtime.bigint();
      if ((await stack.scheduler.fireDue()) !== 1) throw new Error('the expiry schedule did not fire');
      await stack.settle();
      const [rows] = await pool.query('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [username]);
      lags.push(msSince(start));
      if ((rows as { n: number }[])[0]?.n !== 0) throw new Error(`${username} is still there`);
      const refused = await createConnection({
        host: db.host,
        port: db.port,
        user: username,
        password: 'x',
      }).then(
        (c) => c.end().then(() => false),
        () => true,
      );
      if (!refused) throw new Error(`${username} can still log in`);
      const ended = await store.get(command.requestId);
      if (ended?.state !== 'EXPIRED') throw new Error(`${command.requestId} is ${ended?.state}`);
    }

    // ---- 2. revoke throughput against DROP USER + KILL -----------------------------------------------
    // Each concurrency level gets its own users, revoked in rounds that alternate which side goes
    // first: DROP USER costs more the more accounts the server holds, so both sides see the same.
    const served = await serveVaultEmulator();
    const byConcurrency: {
      concurrency: number;
      floor: number;
      revoke: number;
      ratio: number;
      vaultRoundTripOnly: number;
    }[] = [];
    try {
      const { broker, grant } = await servedBroker(served, db, stack.catalogPath);
      const role = desiredVaultState(loadCatalogFile(stack.catalogPath)).find(
        (item) => item.kind === 'database role' && item.name === vaultRoleName(grant.database, grant.level),
      );
      if (role?.kind !== 'database role') throw new Error('no Vault role for the bench grant');
      const creation = role.fields.creation_statements
        .flatMap((s) => s.split(';'))
        .map((s) => s.trim())
        .filter(Boolean);
      for (const concurrency of CONCURRENCIES) {
        const count = ROUND * ROUNDS;
        const leases: string[] = [];
        await throughput(count + 20, 4, async () => void leases.push((await broker.mint(grant)).leaseId));
        // The floor drops users made as Vault makes the level's: its creation statements, so the
        // same privilege rows go with each DROP USER.
        const raw: string[] = [];
        for (let i = 0; i < count + 20; i++) {
          const name = `rawdrop-${i}-${randomUUID().slice(0, 6)}`;
          raw.push(name);
          for (const statement of creation) {
            await pool.query(statement.replaceAll('{{name}}', name).replaceAll('{{password}}', randomUUID()));
          }
        }
        const dropRaw = async (i: number) => {
          await pool.query(`DROP USER IF EXISTS '${raw[i]}'@'%'`);
          await pool.query(`KILL CONNECTION USER '${raw[i]}'`);
        };
        // Warm both, then time each.
        await throughput(20, concurrency, (i) => dropRaw(count + i));
        await throughput(20, concurrency, (i) => broker.revoke(leases[count + i] ?? ''));
        let floorMs = 0;
        let revokeMs = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const from = round * ROUND;
          const floor = () => throughput(ROUND, concurrency, (i) => dropRaw(from + i));
          const revoke = () => throughput(ROUND, concurrency, (i) => broker.revoke(leases[from + i] ?? ''));
          if (round % 2 === 0) {
            floorMs += await floor();
            revokeMs += await revoke();
          } else {
            revokeMs += await revoke();
            floorMs += await floor();
          }
        }
        // The same client, the same hop, no SQL: how much of a revocation is the HTTP round trip.
        const hopMs = await throughput(count, concurrency, (i) =>
          broker.lookup(leases[i] ?? '').then(() => undefined),
        );
        byConcurrency.push({
          concurrency,
          floor: round((count / floorMs) * 1000),
          revoke: round((count / revokeMs) * 1000),
          ratio: round(floorMs / revokeMs),
          vaultRoundTripOnly: round((count / hopMs) * 1000),
        });
      }
    } finally {
      served.stop();
    }

    // ---- 3. reconcile over 10,000 stored requests ----------------------------------------------------
    const client = new DynamoDBClient({ endpoint: stack.dynamoEndpoint });
    const table = `reconcile-bench-${process.pid}`;
    await createRequestTable(client, table);
    const now = Date.now();
    const states: RequestState[] = ['EXPIRED', 'REVOKED', 'DENIED', 'GRANTED'];
    const items = Array.from({ length: STORED }, (_, i) => {
      const due = i < DUE;
      const state: RequestState = due ? 'GRANTED' : states[i % states.length]!;
      const at = new Date(now - 3_600_000 - i * 1000).toISOString();
      const request = accessRequest({
        requestId: `REQ-${String(i)
          .padStart(8, '0')
          .replace(/[ILOU]/g, '0')}`,
        state,
        createdAt: at,
        updatedAt: at,
        ...(state === 'GRANTED'
          ? {
              grant: {
                leaseId: `database/creds/jit-orders-read/bench${i}`,
                username: `bench-${i}`,
                tokenAccessor: 'a',
                mintedAt: at,
                // Due ones ended a minute ago; the others end in an hour.
                expiresAt: new Date(due ? now - 60_000 : now + 3_600_000).toISOString(),
                origin: 'approval',
                told: { ticket: true, approversMessage: true, scheduled: true },
              },
            }
          : {}),
      });
      return requestItemOf(request, {
        at,
        action: 'seed',
        actor: { kind: 'system', id: 'bench' },
        channel: 'system',
      });
    });
    const documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    for (let i = 0; i < items.length; i += 25) {
      await documents.send(
        new BatchWriteCommand({
          RequestItems: { [table]: items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: item } })) },
        }),
      );
    }
    const seededStore = new DynamoDbRequestStore({
      client,
      tableName: table,
      clock: { now: () => new Date() },
    });
    const reconcileStart = process.hrtime.bigint();
    const report = await reconcile({
      catalog: loadCatalogFile(stack.catalogPath),
      store: seededStore,
      clock: { now: () => new Date() },
      // Leases that never existed: Vault's revoke of an unknown lease is a 204, as for one already gone.
      broker: {
        mint: () => Promise.reject(new Error('not minting')),
        revoke: () => Promise.resolve(),
        lookup: () => Promise.resolve(undefined),
        extend: () => Promise.reject(new Error('not extending')),
        listLeases: () => Promise.resolve([]),
      },
      // Slack, Jira, the directory and the schedules as the unit tests fake them: the run is timed
      // on the store and the use cases, not on emulators.
      scheduler: new InProcessScheduler({
        clock: { now: () => new Date() },
        publish: () => Promise.resolve(),
      }),
      notifier: new RecordingNotifier(),
      tickets: new RecordingTicketTracker(),
      directory: new FakeDirectory(),
      identity: new FakeChatIdentity(),
      lookupAttribute: 'mail',
      invocationId: 'bench',
    });
    const reconcileMs = msSince(reconcileStart);
    if (report.expired !== DUE) throw new Error(`reconcile ended ${report.expired} grants, not ${DUE}`);

    const lag = summary(lags);
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      machine: { cpus: cpus().length },
      revokeLagMs: {
        note: 'expiry schedule fires (Scheduler emulator, at the grant end on the stack clock) → SNS emulator → worker: revocation recorded, Vault emulator revokes the lease (DROP USER IF EXISTS + KILL CONNECTION USER on MariaDB), EXPIRED, schedule cancelled, DM, approvers message, ticket closed; the clock stops when the topic is quiet and the user is gone from mysql.user. A login is then checked refused.',
        ...lag,
        p95: round(percentile(lags, 95)),
      },
      revokesPerSecond: {
        note: `${ROUND * ROUNDS} each per concurrency level, in ${ROUNDS} alternating rounds, one MariaDB. Floor: DROP USER IF EXISTS + KILL CONNECTION USER over a pooled admin connection, of users made by the level's creation statements. Revoke: VaultCredentialBroker.revoke → the Vault emulator in its own process (a pool of 4, Vault's default max_open_connections) running the same two statements. vaultRoundTripOnly: sys/leases/lookup, the same hop with no SQL.`,
        goal: 0.8,
        byConcurrency,
      },
      reconcile: {
        note: `${STORED} requests in dynalite (EXPIRED, REVOKED, DENIED, GRANTED not due), ${DUE} GRANTED past their end; one run, no-op Slack/Jira/scheduler, Vault revoke answering at once.`,
        stored: STORED,
        due: DUE,
        ended: report.expired,
        ms: round(reconcileMs),
      },
      benchSeconds: round(msSince(benchStart) / 1000),
    };
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/expiry.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.table({
      'expiry fires → user gone p50 / p99': { value: `${lag.p50} / ${lag.p99} ms`, n: lag.samples },
      ...Object.fromEntries(
        byConcurrency.map((level) => [
          `revoke ${level.concurrency} at a time: floor / Vault / no-SQL hop`,
          {
            value: `${level.floor} / ${level.revoke} / ${level.vaultRoundTripOnly} /s → ${level.ratio} (goal ≥ 0.8)`,
            n: ROUND * ROUNDS,
          },
        ]),
      ),
      [`reconcile, ${STORED} stored, ${DUE} due`]: { value: `${results.reconcile.ms} ms`, n: 1 },
    });
    console.log(
      `${results.machine.cpus} CPUs, Node ${results.node}; ran ${results.benchSeconds} s; written to bench/results/expiry.json`,
    );
  } finally {
    await pool.end();
    await stack?.stop();
    await Promise.all([adHandle.stop(), dbHandle.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
