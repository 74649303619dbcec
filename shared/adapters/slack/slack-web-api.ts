import { ErrorCode, type WebAPICallError, WebClient } from '@slack/web-api';
import {
  type ChatError,
  type ChatIdentity,
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

  constructor(options: SlackWebApiOptions) {
    this.client = new WebClient(options.botToken, {
      ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
      retryConfig: { retries: 1, factor: 1, minTimeout: 200, maxTimeout: 500 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 5000,
    });
  }

  async emailOf(userId: string): Promise<string | undefined> {
    try {
      const result = await this.client.users.info({ user: userId });
      const user = result.user;
      // A deactivated user keeps their profile; they must not get access through it.
      if (!user || user.deleted || user.is_bot) return undefined;
      return user.profile?.email || undefined;
    } catch (error) {
      if (platformError(error) === 'user_not_found') return undefined;
      throw chatError(error, 'users.info');
    }
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
