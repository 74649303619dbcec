import { REQUEST_ID_PATTERN } from '../domain/request-id.js';
import * as z from 'zod';

/**
 * The topic's contract: every message the ack and jira-webhook Lambdas publish and the worker
 * consumes. Each command is versioned; a breaking change adds a version, and the worker keeps
 * accepting the old one until no publisher sends it.
 */
export const COMMAND_VERSION = 1 as const;

const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, { error: 'must be a Slack user id' });
const slackTeamId = z.string().regex(/^[TE][A-Z0-9]{2,}$/, { error: 'must be a Slack team id' });
const slackChannelId = z.string().regex(/^[CDG][A-Z0-9]{2,}$/, { error: 'must be a Slack channel id' });
const requestId = z.string().regex(REQUEST_ID_PATTERN, { error: 'must be a request id' });
/** Slack's response_url for the command; lets the worker answer in the same place for 30 minutes. */
const responseUrl = z.url({ protocol: /^https?$/ });
const catalogName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/);

/** A Slack user as Slack identified them; the worker verifies who they are in the directory. */
export const slackActorSchema = z.strictObject({
  kind: z.literal('slack'),
  userId: slackUserId,
  teamId: slackTeamId,
  /** Display only; never used to decide anything. */
  userName: z.string().max(100).optional(),
});
export type SlackActor = z.infer<typeof slackActorSchema>;

export const jiraActorSchema = z.strictObject({
  kind: z.literal('jira'),
  accountId: z.string().min(1).max(128),
});

const envelope = {
  version: z.literal(COMMAND_VERSION),
  /**
   * Stable key for deduplication: the same user action gives the same id however often it is
   * delivered or re-submitted, so the worker can drop repeats with one conditional write.
   */
  commandId: z.string().regex(/^[a-z0-9._:-]{8,128}$/),
  issuedAt: z.iso.datetime(),
};

export const requestSubmittedSchema = z.strictObject({
  type: z.literal('request.submitted'),
  ...envelope,
  requestId,
  requester: slackActorSchema,
  /** Where the command was typed, when known (a modal opened from a shortcut has none). */
  channelId: slackChannelId.optional(),
  responseUrl: responseUrl.optional(),
  via: z.enum(['slash_command', 'modal']),
  target: z.strictObject({ database: catalogName, level: catalogName }),
  durationMinutes: z
    .int()
    .min(1)
    .max(24 * 60),
  justification: z.string().min(1).max(1000),
});

export const requestCancelSchema = z.strictObject({
  type: z.literal('request.cancel'),
  ...envelope,
  requestId,
  actor: slackActorSchema,
  responseUrl: responseUrl.optional(),
});

export const requestDecidedSchema = z.strictObject({
  type: z.literal('request.decided'),
  ...envelope,
  requestId,
  decision: z.enum(['approve', 'deny']),
  source: z.enum(['slack', 'jira']),
  actor: z.discriminatedUnion('kind', [slackActorSchema, jiraActorSchema]),
  reason: z.string().max(1000).optional(),
  /** Set when the decision is on an extension of the grant (its number), not on the request. */
  extension: z.int().min(1).max(100).optional(),
  /** The approvers-channel message the button was on, so the worker can update it in place. */
  slackMessage: z.strictObject({ channelId: slackChannelId, ts: z.string().regex(/^\d+\.\d+$/) }).optional(),
  responseUrl: responseUrl.optional(),
  /** The ticket change a Jira decision came from: where to answer, and the status to move back to. */
  jira: z
    .strictObject({
      issueKey: z.string().regex(/^[A-Z][A-Z0-9_]+-\d+$/, { error: 'must be a Jira issue key' }),
      fromStatus: z.string().min(1).max(255),
      toStatus: z.string().min(1).max(255),
    })
    .optional(),
});

export const grantRevokeSchema = z.strictObject({
  type: z.literal('grant.revoke'),
  ...envelope,
  requestId,
  actor: slackActorSchema,
  via: z.enum(['slash_command', 'button']),
  responseUrl: responseUrl.optional(),
});

export const grantExtendSchema = z.strictObject({
  type: z.literal('grant.extend'),
  ...envelope,
  requestId,
  actor: slackActorSchema,
  /** How much longer, counted from the current expiry; bounded by the level's max in the worker. */
  durationMinutes: z
    .int()
    .min(1)
    .max(24 * 60),
  /** Why more time is needed: the approvers read it, as they read the request's justification. */
  reason: z.string().min(1).max(1000),
  responseUrl: responseUrl.optional(),
});

/** The requester asks for a new credential (the token expired unused, or was lost); the old one is revoked. */
export const grantReissueSchema = z.strictObject({
  type: z.literal('grant.reissue'),
  ...envelope,
  requestId,
  actor: slackActorSchema,
  responseUrl: responseUrl.optional(),
});

/** The grant's end, published by the expiry schedule: revoke if still granted. */
export const grantExpireSchema = z.strictObject({
  type: z.literal('grant.expire'),
  ...envelope,
  requestId,
  /** When the grant was due to end, as scheduled. */
  dueAt: z.iso.datetime(),
});

/** The periodic sweep (an EventBridge rule every few minutes in AWS): reconcile what the other guards missed. */
export const reconcileSchema = z.strictObject({
  type: z.literal('reconcile'),
  ...envelope,
});

export const topicCommandSchema = z.discriminatedUnion('type', [
  requestSubmittedSchema,
  requestCancelSchema,
  requestDecidedSchema,
  grantRevokeSchema,
  grantExtendSchema,
  grantReissueSchema,
  grantExpireSchema,
  reconcileSchema,
]);

export type TopicCommand = z.infer<typeof topicCommandSchema>;
export type CommandType = TopicCommand['type'];
export type RequestSubmitted = z.infer<typeof requestSubmittedSchema>;
export type RequestCancel = z.infer<typeof requestCancelSchema>;
export type RequestDecided = z.infer<typeof requestDecidedSchema>;
export type GrantRevoke = z.infer<typeof grantRevokeSchema>;
export type GrantExtend = z.infer<typeof grantExtendSchema>;
export type GrantReissue = z.infer<typeof grantReissueSchema>;
export type GrantExpire = z.infer<typeof grantExpireSchema>;
export type Reconcile = z.infer<typeof reconcileSchema>;

/**
 * The command an expiry schedule publishes. Its id is the same for every firing of one schedule
 * (a redelivery, or a second schedule for the same end), so the worker revokes once.
 */
export function grantExpireCommand(requestId: string, dueAt: Date, issuedAt: Date = dueAt): GrantExpire {
  return {
    type: 'grant.expire',
    version: COMMAND_VERSION,
    commandId: `expire:${requestId.toLowerCase()}:${Math.floor(dueAt.getTime() / 1000)}`,
    issuedAt: issuedAt.toISOString(),
    requestId,
    dueAt: dueAt.toISOString(),
  };
}

/** The periodic sweep's command: its own id each time, so every run is a run. */
export function reconcileCommand(at: Date, id: string): Reconcile {
  return {
    type: 'reconcile',
    version: COMMAND_VERSION,
    commandId: `reconcile:${id}`,
    issuedAt: at.toISOString(),
  };
}

export const COMMAND_TYPES = topicCommandSchema.options.map((o) => o.shape.type.value) as CommandType[];

/** Message attributes published with every command, for subscription filters and the worker. */
export interface CommandAttributes {
  readonly type: CommandType;
  readonly version: string;
}

export class InvalidCommandError extends Error {
  constructor(
    message: string,
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvalidCommandError';
  }
}

/**
 * Parses a message from the topic. Refuses anything that does not match the contract exactly,
 * including a body whose `type` disagrees with the `type` attribute it was published with.
 * Messages never carry secrets, so issues may name fields (never values).
 */
export function parseTopicCommand(message: string, attributes?: Partial<CommandAttributes>): TopicCommand {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch (error) {
    throw new InvalidCommandError('the message is not JSON', [], { cause: error });
  }
  const command = checkTopicCommand(json);
  if (attributes?.type !== undefined && attributes.type !== command.type) {
    throw new InvalidCommandError('the type attribute does not match the body', [
      `attribute ${attributes.type}, body ${command.type}`,
    ]);
  }
  if (attributes?.version !== undefined && attributes.version !== String(command.version)) {
    throw new InvalidCommandError('the version attribute does not match the body', [
      `attribute ${attributes.version}, body ${command.version}`,
    ]);
  }
  return command;
}

/**
 * The command exactly as the contract allows it, or InvalidCommandError listing each problem by
 * field (never by value): what every publisher checks before anything reaches the topic.
 */
export function checkTopicCommand(value: unknown): TopicCommand {
  const result = topicCommandSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidCommandError('the message is not a valid command', issues);
  }
  return result.data;
}

export function attributesOf(command: TopicCommand): CommandAttributes {
  return { type: command.type, version: String(command.version) };
}
