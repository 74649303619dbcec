import { createJiraWebhookHandler } from './wiring.js';

/** Jira admin webhook → Function URL → here: verified, re-read, queued for the worker. */
export const handler = createJiraWebhookHandler();
