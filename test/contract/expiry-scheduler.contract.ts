import { describe, expect, it } from 'vitest';
import type { GrantExpire } from '../../shared/messages/commands.js';
import type { ExpiryScheduler } from '../../shared/ports/expiry-scheduler.js';

/** What an ExpiryScheduler implementation brings to the contract. */
export interface ExpirySchedulerContractSubject {
  readonly scheduler: ExpiryScheduler;
  /** Moves the clock to `at` and lets everything due fire. */
  advanceTo(at: Date): Promise<void>;
  /** The grant.expire commands that reached the topic so far. */
  fired(): GrantExpire[];
  readonly now: Date;
}

export function expirySchedulerContract(
  name: string,
  setup: () => Promise<ExpirySchedulerContractSubject> | ExpirySchedulerContractSubject,
): void {
  describe(`ExpiryScheduler contract: ${name}`, () => {
    const later = (subject: ExpirySchedulerContractSubject, seconds: number) =>
      new Date(subject.now.getTime() + seconds * 1000);

    it('publishes grant.expire for the request at its time, not before, once', async () => {
      const subject = await setup();
      const at = later(subject, 3600);
      await subject.scheduler.schedule('REQ-0K2M9Q7X', at);
      await subject.advanceTo(later(subject, 3599));
      expect(subject.fired()).toEqual([]);
      await subject.advanceTo(later(subject, 3600));
      expect(subject.fired()).toEqual([
        expect.objectContaining({ type: 'grant.expire', requestId: 'REQ-0K2M9Q7X', dueAt: at.toISOString() }),
      ]);
      await subject.advanceTo(later(subject, 7200));
      expect(subject.fired()).toHaveLength(1);
    });

    it('takes a second schedule for the same request as already scheduled: one firing', async () => {
      const subject = await setup();
      const at = later(subject, 600);
      await subject.scheduler.schedule('REQ-0K2M9Q7X', at);
      await expect(subject.scheduler.schedule('REQ-0K2M9Q7X', at)).resolves.toBeUndefined();
      await subject.advanceTo(later(subject, 601));
      expect(subject.fired()).toHaveLength(1);
    });

    it('cancels: nothing fires; cancelling again, or what was never scheduled, is done', async () => {
      const subject = await setup();
      await subject.scheduler.schedule('REQ-0K2M9Q7X', later(subject, 600));
      await subject.scheduler.cancel('REQ-0K2M9Q7X');
      await expect(subject.scheduler.cancel('REQ-0K2M9Q7X')).resolves.toBeUndefined();
      await expect(subject.scheduler.cancel('REQ-1ZZZZZZZ')).resolves.toBeUndefined();
      await subject.advanceTo(later(subject, 601));
      expect(subject.fired()).toEqual([]);
    });

    it('cancelling after it fired is done, and a new schedule after a cancel fires', async () => {
      const subject = await setup();
      await subject.scheduler.schedule('REQ-0K2M9Q7X', later(subject, 60));
      await subject.advanceTo(later(subject, 61));
      await expect(subject.scheduler.cancel('REQ-0K2M9Q7X')).resolves.toBeUndefined();
      await subject.scheduler.schedule('REQ-0K2M9Q7X', later(subject, 120));
      await subject.advanceTo(later(subject, 121));
      expect(subject.fired().map((c) => c.dueAt)).toEqual([
        later(subject, 60).toISOString(),
        later(subject, 120).toISOString(),
      ]);
    });

    it('keeps requests apart', async () => {
      const subject = await setup();
      await subject.scheduler.schedule('REQ-0K2M9Q7X', later(subject, 60));
      await subject.scheduler.schedule('REQ-1ZZZZZZZ', later(subject, 30));
      await subject.scheduler.cancel('REQ-0K2M9Q7X');
      await subject.advanceTo(later(subject, 90));
      expect(subject.fired().map((c) => c.requestId)).toEqual(['REQ-1ZZZZZZZ']);
    });
  });
}
