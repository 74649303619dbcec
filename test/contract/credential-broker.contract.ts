import { describe, expect, it } from 'vitest';
import {
  BrokerRejectedError,
  BrokerUnavailableError,
  type CredentialBroker,
  type GrantSpec,
  type WrappedConnection,
} from '../../shared/ports/credential-broker.js';

/** What a CredentialBroker implementation brings to the contract. */
export interface CredentialBrokerContractSubject {
  readonly broker: CredentialBroker;
  /** A grant the broker can mint (its level is configured where the broker mints). */
  grant(overrides?: Partial<GrantSpec>): GrantSpec;
  /** What the requester gets with `jit-access creds`: the wrap opened, once. */
  unwrap(wrappedToken: string): Promise<WrappedConnection>;
  /** Whether the database has this user, and whether the password logs in and reads. */
  userExists(username: string): Promise<boolean>;
  canRead(connection: WrappedConnection): Promise<boolean>;
  /** The longest a lease of the subject's level may live from its issue (Vault's role max_ttl). */
  readonly maxTtlSeconds: number;
  /** A lease id of this backend's form that it never issued. */
  readonly neverIssuedLease: string;
  /** Makes the broker's backend unreachable, then reachable again. */
  breakBackend(): void;
  repairBackend(): void;
}

export function credentialBrokerContract(
  name: string,
  setup: () => Promise<CredentialBrokerContractSubject> | CredentialBrokerContractSubject,
): void {
  describe(`CredentialBroker contract: ${name}`, () => {
    it('mints a user named for the account, delivered only inside a single-use wrap, that logs in and reads', async () => {
      const subject = await setup();
      const grant = subject.grant({ account: 'alice' });
      const minted = await subject.broker.mint(grant);
      expect(minted.username).toContain('alice');
      expect(JSON.stringify(minted)).not.toMatch(/password/i);
      const opened = await subject.unwrap(minted.wrappedToken);
      expect(opened).toMatchObject({
        ...grant.connection,
        username: minted.username,
        requestId: grant.requestId,
      });
      expect(JSON.stringify(minted)).not.toContain(opened.password);
      expect(await subject.canRead(opened)).toBe(true);
      await expect(subject.unwrap(minted.wrappedToken)).rejects.toThrow();
    });

    it.each([45, 90])(
      "gives a %i-minute grant's lease exactly that long, and can look it up",
      async (minutes) => {
        const subject = await setup();
        const before = Date.now();
        const minted = await subject.broker.mint(subject.grant({ ttlSeconds: minutes * 60 }));
        const expected = before + minutes * 60_000;
        expect(Math.abs(Date.parse(minted.expiresAt) - expected)).toBeLessThan(5_000);
        const lease = await subject.broker.lookup(minted.leaseId);
        expect(lease?.leaseId).toBe(minted.leaseId);
        // Whole seconds, as the backend keeps them.
        expect(Math.abs(Date.parse(lease?.expiresAt ?? '') - Date.parse(minted.expiresAt))).toBeLessThan(
          2_000,
        );
      },
    );

    it('extends a live credential: its lease (and the token it dies with) last the new time', async () => {
      const subject = await setup();
      const minted = await subject.broker.mint(subject.grant({ ttlSeconds: 3600 }));
      const before = Date.now();
      const extended = await subject.broker.extend(minted, 2 * 3600);
      expect(Math.abs(Date.parse(extended.expiresAt) - (before + 2 * 3600_000))).toBeLessThan(5_000);
      const lease = await subject.broker.lookup(minted.leaseId);
      expect(Math.abs(Date.parse(lease?.expiresAt ?? '') - Date.parse(extended.expiresAt))).toBeLessThan(
        2_000,
      );
      expect(await subject.userExists(minted.username)).toBe(true);
    });

    it("stops an extension at the level's ceiling, and says the real end", async () => {
      const subject = await setup();
      const minted = await subject.broker.mint(subject.grant({ ttlSeconds: 3600 }));
      const extended = await subject.broker.extend(minted, 30 * 3600);
      const lease = await subject.broker.lookup(minted.leaseId);
      const ceiling = Date.parse(lease?.issuedAt ?? '') + subject.maxTtlSeconds * 1000;
      expect(Math.abs(Date.parse(extended.expiresAt) - ceiling)).toBeLessThan(2_000);
    });

    it('lists the leases under a level, and no longer those revoked', async () => {
      const subject = await setup();
      const grant = subject.grant();
      const [kept, revoked] = [await subject.broker.mint(grant), await subject.broker.mint(grant)];
      await subject.broker.revoke(revoked.leaseId);
      const listed = await subject.broker.listLeases(grant.database, grant.level);
      expect(listed).toContain(kept.leaseId);
      expect(listed).not.toContain(revoked.leaseId);
      expect(await subject.broker.listLeases(grant.database, 'unconfigured')).toEqual([]);
    });

    it('mints a new user for each call: two mints, two users', async () => {
      const subject = await setup();
      const [first, second] = [
        await subject.broker.mint(subject.grant()),
        await subject.broker.mint(subject.grant()),
      ];
      expect(first.username).not.toBe(second.username);
      expect(first.leaseId).not.toBe(second.leaseId);
    });

    it('revokes: the user is gone; revoking again, or a lease never seen, is done, not an error', async () => {
      const subject = await setup();
      const minted = await subject.broker.mint(subject.grant());
      expect(await subject.userExists(minted.username)).toBe(true);
      await subject.broker.revoke(minted.leaseId);
      expect(await subject.userExists(minted.username)).toBe(false);
      await subject.broker.revoke(minted.leaseId);
      await subject.broker.revoke(subject.neverIssuedLease);
      expect(await subject.broker.lookup(minted.leaseId)).toBeUndefined();
    });

    it('fails with BrokerUnavailableError while its backend is unreachable, naming no secret', async () => {
      const subject = await setup();
      subject.breakBackend();
      try {
        const error = await subject.broker.mint(subject.grant()).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(BrokerUnavailableError);
        expect(String((error as Error).message)).not.toMatch(/hvs\.|password/i);
      } finally {
        subject.repairBackend();
      }
    });

    it('fails with BrokerRejectedError naming the setting for a level it has no role for', async () => {
      const subject = await setup();
      const error = await subject.broker
        .mint(subject.grant({ level: 'unconfigured' }))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerRejectedError);
      expect((error as BrokerRejectedError).setting).toMatch(/vault sync|policy|role/);
    });
  });
}
