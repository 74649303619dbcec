import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/*
 * The layer rule of ARCHITECTURE.md ("Who renders, who sends"), as lint enforces it: the domain,
 * the ports and the use cases import no adapter and no vendor SDK.
 */
const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function restricted(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rule', () => {
  it.each([
    ['shared/use-cases/probe.ts', "import { SlackNotifier } from '../adapters/slack/slack-notifier.js';"],
    ['shared/use-cases/probe.ts', "import type { AdfDocument } from '../adapters/jira/adf.js';"],
    ['shared/ports/probe.ts', "import { WebClient } from '@slack/web-api';"],
    ['shared/domain/probe.ts', "import { Client } from 'ldapts';"],
    ['shared/use-cases/probe.ts', "import { Version3Client } from 'jira.js';"],
    ['shared/use-cases/probe.ts', "import { SNSClient } from '@aws-sdk/client-sns';"],
    ['shared/use-cases/probe.ts', "import mysql from 'mysql2/promise';"],
    ['shared/use-cases/probe.ts', "import vault from 'node-vault';"],
  ])('refuses in %s: %s', async (filePath, line) => {
    expect(await restricted(filePath, `${line}\nexport const probe = 1;\n`)).toHaveLength(1);
  });

  it.each([
    ['shared/use-cases/probe.ts', "import type { Notifier } from '../ports/chat.js';"],
    ['shared/adapters/slack/probe.ts', "import { WebClient } from '@slack/web-api';"],
    [
      'lambdas/worker/probe.ts',
      "import { SlackNotifier } from '../../shared/adapters/slack/slack-notifier.js';",
    ],
  ])('allows in %s: %s', async (filePath, line) => {
    expect(await restricted(filePath, `${line}\nexport const probe = 1;\n`)).toEqual([]);
  });
});
