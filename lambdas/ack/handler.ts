import { createAckHandler } from './wiring.js';

/** Slack → Function URL → here. Answers within Slack's 3 s; the worker does the slow parts. */
export const handler = createAckHandler();
