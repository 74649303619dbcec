import { describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../shared/domain/access-request.js';
import { grantIsDue } from '../../shared/use-cases/reconcile.js';
import { accessRequest } from '../fixtures/access-request.js';

const END = Date.parse('2026-11-21T11:00:00.000Z');
const granted = (revocation?: Partial<NonNullable<AccessRequest['revocation']>>): AccessRequest =>
  accessRequest({
    state: 'GRANTED',
    grant: {
      leaseId: 'database/creds/jit-orders-read/x',
      username: 'alice-x',
      tokenAccessor: 'a',
      mintedAt: '2026-11-21T10:00:00.000Z',
      expiresAt: new Date(END).toISOString(),
      origin: 'approval',
    },
    ...(revocation
      ? {
          revocation: {
            pending: true,
            why: 'expired',
            by: { kind: 'system', id: 'expiry-schedule' },
            requestedAt: new Date(END).toISOString(),
            attempts: 0,
            ...revocation,
          },
        }
      : {}),
  });
const minutes = (n: number) => END + n * 60_000;

describe('grantIsDue: which grants reconcile ends now', () => {
  it.each([
    ['before its end', granted(), minutes(-1), false],
    ['at its end', granted(), minutes(0), true],
    ['a revocation requested, never tried', granted({ attempts: 0 }), minutes(0), true],
    [
      '1 failure, 30 s later',
      granted({ attempts: 1, lastAttemptAt: new Date(END).toISOString() }),
      END + 30_000,
      false,
    ],
    [
      '1 failure, 1 min later',
      granted({ attempts: 1, lastAttemptAt: new Date(END).toISOString() }),
      minutes(1),
      true,
    ],
    [
      '3 failures, 3 min later',
      granted({ attempts: 3, lastAttemptAt: new Date(END).toISOString() }),
      minutes(3),
      false,
    ],
    [
      '3 failures, 4 min later',
      granted({ attempts: 3, lastAttemptAt: new Date(END).toISOString() }),
      minutes(4),
      true,
    ],
    [
      '20 failures: never more than an hour apart',
      granted({ attempts: 20, lastAttemptAt: new Date(END).toISOString() }),
      minutes(60),
      true,
    ],
    [
      '20 failures, 59 min later',
      granted({ attempts: 20, lastAttemptAt: new Date(END).toISOString() }),
      minutes(59),
      false,
    ],
  ])('%s → %s', (_what, request, now, due) => {
    expect(grantIsDue(request, now)).toBe(due);
  });
});
