import { ErrorCode, type UsersInfoResponse, type WebAPICallError, WebClient } from '@slack/web-api';
import {
  type ChatError,
  type ChatIdentity,
  type ChatPerson,
  ChatRejectedError,
  ChatUnavailableError,
} from '../../ports/chat.js';
import type { ChatMessage } from './request-messages.js';

export interface SlackWebApiOptions {
  readonly botToken: string;
  /** Only for the local stack and tests: the Slack Web API emulator. */
  readonly slackApiUrl?: string;
  readonly timeoutMs?: number;
}

/**
 * Slack as the worker uses it: who a user is (users.info) and messages (chat.postMessage and
 * friends). Rate limits are not waited out here: the command is retried as a whole later, which
 * keeps a Lambda from sleeping through Slack's Retry-After. Errors retrying cannot fix are
 * ChatRejectedError, naming what to fix.
 */
export class SlackWebApi implements ChatIdentity {
  private readonly client: WebClient;

  private workspaceId: Promise<string | undefined> | undefined;

  constructor(options: SlackWebApiOptions) {
    this.client = new WebClient(options.botToken, {
      ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
      retryConfig: { retries: 1, factor: 1, minTimeout: 200, maxTimeout: 500 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 5000,
    });
  }

  async whoIs(userId: string): Promise<ChatPerson> {
    let user: UsersInfoResponse['user'];
    try {
      user = (await this.client.users.info({ user: userId })).user;
    } catch (error) {
      if (platformError(error) === 'user_not_found') return { kind: 'no_email' };
      throw chatError(error, 'users.info');
    }
    // A deactivated user keeps their profile; they must not get access through it.
    if (!user || user.deleted || user.is_bot) return { kind: 'no_email' };
    if (user.is_restricted || user.is_ultra_restricted) return { kind: 'not_member', why: 'guest' };
    // Someone from another organisation, reaching us through a shared (Slack Connect) channel.
    if (user.team_id !== (await this.workspace())) return { kind: 'not_member', why: 'other_workspace' };
    // Slack sends the flag for members; only an explicit false is known to be unconfirmed.
    if (user.is_email_confirmed === false) return { kind: 'not_member', why: 'unconfirmed_email' };
    const email = user.profile?.email;
    return email ? { kind: 'member', email } : { kind: 'no_email' };
  }

  /** The workspace the bot token belongs to, asked once per container. */
  private workspace(): Promise<string | undefined> {
    this.workspaceId ??= this.client.auth.test().then(
      (result) => result.team_id,
      (error: unknown) => {
        this.workspaceId = undefined;
        throw chatError(error, 'auth.test');
      },
    );
    return this.workspaceId;
  }

  async sendDirect(userId: string, message: ChatMessage): Promise<void> {
    try {
      // A user id as channel posts into the app's DM with that user.
      await this.client.chat.postMessage({
        channel: userId,
        text: message.text,
        blocks: [...message.blocks] as never,
      });
    } catch (error) {
      throw chatError(error, 'chat.postMessage', 'direct');
    }
  }

  async post(channelId: string, message: ChatMessage): Promise<{ channelId: string; ts: string }> {
    try {
      const result = await this.client.chat.postMessage({
        channel: channelId,
        text: message.text,
        blocks: [...message.blocks] as never,
      });
      return { channelId: result.channel ?? channelId, ts: result.ts ?? '' };
    } catch (error) {
      throw chatError(error, 'chat.postMessage');
    }
  }

  async update(channelId: string, ts: string, message: ChatMessage): Promise<'updated' | 'gone'> {
    try {
      await this.client.chat.update({
        channel: channelId,
        ts,
        text: message.text,
        blocks: [...message.blocks] as never,
      });
      return 'updated';
    } catch (error) {
      if (platformError(error) === 'message_not_found') return 'gone';
      throw chatError(error, 'chat.update');
    }
  }

  async sendEphemeral(channelId: string, userId: string, message: ChatMessage): Promise<void> {
    try {
      await this.client.chat.postEphemeral({
        channel: channelId,
        user: userId,
        text: message.text,
        blocks: [...message.blocks] as never,
      });
    } catch (error) {
      if (!EPHEMERAL_FALLBACK_ERRORS.has(platformError(error) ?? ''))
        throw chatError(error, 'chat.postEphemeral');
      await this.sendDirect(userId, message);
    }
  }
}

/** The channel cannot show this user an ephemeral message; a DM still reaches them. */
const EPHEMERAL_FALLBACK_ERRORS = new Set([
  'user_not_in_channel',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
]);

function platformError(error: unknown): string | undefined {
  const e = error as WebAPICallError;
  return e.code === ErrorCode.PlatformError ? (e as { data?: { error?: string } }).data?.error : undefined;
}

/** Platform errors that a later attempt may not meet: Slack's own trouble, and rate limits. */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'team_added_to_org',
]);

/** What an operator changes when Slack refuses for good, by Slack's error code. */
function settingFor(code: string, where: 'channel' | 'direct'): string {
  switch (code) {
    case 'invalid_auth':
    case 'not_authed':
    case 'token_revoked':
    case 'token_expired':
    case 'account_inactive':
    case 'no_permission':
      return 'SLACK_BOT_TOKEN (SLACK_BOT_TOKEN_ARN): the bot token is invalid or revoked; reinstall the app and store its new token';
    case 'missing_scope':
      return "the Slack app's bot token scopes (chat:write, im:write, users:read, users:read.email); add them and reinstall";
    case 'channel_not_found':
    case 'not_in_channel':
    case 'is_archived':
    case 'user_not_found':
    case 'cannot_dm_bot':
      if (where === 'direct') {
        return "the person's Slack account: it is deactivated, a bot, or does not allow the app to message it";
      }
      return 'global.slack.approversChannel in the catalog: the channel must exist, not be archived, and have the app in it';
    case 'invalid_blocks':
    case 'invalid_blocks_format':
    case 'msg_too_long':
    case 'no_text':
    case 'invalid_arguments':
      return "jit-access's Slack message builders (Slack refused a message it built: report it)";
    default:
      return `the Slack app's configuration (Slack answered ${code})`;
  }
}

/** Slack's error code only: never the request, which may carry user text. */
function chatError(error: unknown, method: string, where: 'channel' | 'direct' = 'channel'): ChatError {
  const platform = platformError(error);
  if (platform !== undefined && !TRANSIENT_PLATFORM_ERRORS.has(platform)) {
    return new ChatRejectedError(`${method} refused: ${platform}`, platform, settingFor(platform, where), {
      cause: error,
    });
  }
  const code = platform ?? (error as { code?: string }).code ?? 'unknown';
  return new ChatUnavailableError(`${method} failed: ${code}`, code, { cause: error });
}
