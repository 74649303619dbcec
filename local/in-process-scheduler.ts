import { grantExpireCommand, type GrantExpire } from '../shared/messages/commands.js';
import type { Clock } from '../shared/ports/clock.js';
import type { ExpiryScheduler } from '../shared/ports/expiry-scheduler.js';

/**
 * The expiry scheduler of the local stack and the tests: one-time schedules kept in memory and
 * fired by `fireDue()` at the injected clock's time, with the EventBridge adapter's contract (a
 * second schedule for a request is already scheduled; cancelling what is not there is done).
 */
export class InProcessScheduler implements ExpiryScheduler {
  private readonly pending = new Map<string, Date>();

  constructor(private readonly options: { clock: Clock; publish: (command: GrantExpire) => Promise<void> }) {}

  schedule(requestId: string, at: Date): Promise<void> {
    if (!this.pending.has(requestId)) this.pending.set(requestId, new Date(at.getTime()));
    return Promise.resolve();
  }

  cancel(requestId: string): Promise<void> {
    this.pending.delete(requestId);
    return Promise.resolve();
  }

  /** What is scheduled, soonest first. */
  scheduled(): { requestId: string; at: Date }[] {
    return [...this.pending]
      .map(([requestId, at]) => ({ requestId, at }))
      .sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  /** Publishes every schedule due by now, each once (a schedule is deleted after it fires). */
  async fireDue(): Promise<number> {
    const now = this.options.clock.now();
    const due = this.scheduled().filter((s) => s.at.getTime() <= now.getTime());
    for (const { requestId, at } of due) {
      this.pending.delete(requestId);
      await this.options.publish(grantExpireCommand(requestId, at, now));
    }
    return due.length;
  }

  reset(): void {
    this.pending.clear();
  }
}
