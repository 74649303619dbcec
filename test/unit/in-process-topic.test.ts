import type { SNSEventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InProcessTopic } from '../../local/in-process-topic.js';
import { reconcileCommand } from '../../shared/messages/commands.js';

const AT = new Date('2026-12-03T10:00:00Z');

async function deliveries(topic: InProcessTopic, count: number): Promise<SNSEventRecord[]> {
  const records: SNSEventRecord[] = [];
  topic.subscribe(async (event) => {
    records.push(...event.Records);
  });
  for (let i = 0; i < count; i++) await topic.publish(reconcileCommand(AT, `run-${i}`));
  await topic.drain();
  return records;
}

const order = (records: SNSEventRecord[]) =>
  records.map((r) => (JSON.parse(r.Sns.Message) as { commandId: string }).commandId);

describe('InProcessTopic delivery', () => {
  it('delivers each command once, in order, by default', async () => {
    const records = await deliveries(new InProcessTopic(), 20);
    expect(order(records)).toEqual(Array.from({ length: 20 }, (_, i) => `reconcile:run-${i}`));
  });

  it('delivers every command 1 + duplicates times, each copy with the same message id', async () => {
    const records = await deliveries(new InProcessTopic({ delivery: { duplicates: 2 } }), 5);
    expect(records).toHaveLength(15);
    // Node 20 has no Map.groupBy.
    const byMessage = new Map<string, SNSEventRecord[]>();
    for (const r of records) byMessage.set(r.Sns.MessageId, [...(byMessage.get(r.Sns.MessageId) ?? []), r]);
    expect([...byMessage.values()].map((copies) => copies.length)).toEqual([3, 3, 3, 3, 3]);
    for (const copies of byMessage.values()) expect(new Set(copies.map((c) => c.Sns.Message)).size).toBe(1);
  });

  it('reorders deliveries published together, the same way for the same seed', async () => {
    const first = order(await deliveries(new InProcessTopic({ delivery: { reorder: 8, seed: 7 } }), 20));
    const again = order(await deliveries(new InProcessTopic({ delivery: { reorder: 8, seed: 7 } }), 20));
    expect(first).toHaveLength(20);
    expect(new Set(first).size).toBe(20);
    expect(first).not.toEqual(Array.from({ length: 20 }, (_, i) => `reconcile:run-${i}`));
    expect(again).toEqual(first);
  });
});
