import type { Context, SNSEvent } from 'aws-lambda';
import { createWorkerHandler } from './wiring.js';

/** SNS → here, one command per record. Throws on transient failures so Lambda retries. */
export const handler: (event: SNSEvent, context: Context) => Promise<void> = createWorkerHandler();
