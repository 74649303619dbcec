import { describe, expect, it } from 'vitest';
import { STATUS_FOR } from '../../lambdas/jira-webhook/wiring.js';
import { documentedStatuses } from '../fixtures/documented-statuses.js';

describe('the jira-webhook Lambda answers', () => {
  it('exactly what docs/decisions.md lists: every outcome, and the verifier refusals', () => {
    const verifierRefusals = [401, 405, 413];
    const answered = [...new Set([...Object.values(STATUS_FOR), ...verifierRefusals])].sort((a, b) => a - b);
    expect(documentedStatuses('decisions.md')).toEqual(answered);
  });

  it('never answers what Jira would retry for a final outcome', () => {
    // Jira retries 408, 409, 425, 429 and 5xx; only "try again later" may be one of them.
    const retried = (status: number) => [408, 409, 425, 429].includes(status) || status >= 500;
    for (const [outcome, status] of Object.entries(STATUS_FOR)) {
      expect(retried(status)).toBe(outcome === 'retry_later');
    }
  });
});
