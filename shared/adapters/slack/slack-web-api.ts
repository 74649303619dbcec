import { ErrorCode, type WebAPICallError, WebClient } from '@slack/web-api';
import {
  type ChatIdentity,
  type ChatMessage,
  ChatUnavailableError,
  type Notifier,
} from '../../ports/chat.js';

export interface SlackWebApiOptions {
  readonly botToken: string;
  /** Only for the local stack and tests: the Slack Web API emulator. */
  readonly slackApiUrl?: string;
  readonly timeoutMs?: number;
}

/**
 * Slack as the worker uses it: who a user is (users.info) and messages (chat.postMessage).
 * Rate limits are not waited out here: the command is retried as a whole later, which keeps a
 * Lambda from sleeping through Slack's Retry-After.
 */
export class SlackWebApi implements ChatIdentity, Notifier {
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
      throw transient(error, 'users.info');
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
      throw transient(error, 'chat.postMessage');
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
      throw transient(error, 'chat.postMessage');
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
      throw transient(error, 'chat.update');
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
        throw transient(error, 'chat.postEphemeral');
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

/** Slack's error code only: never the request, which may carry user text. */
function transient(error: unknown, method: string): ChatUnavailableError {
  const code = platformError(error) ?? (error as { code?: string }).code ?? 'unknown';
  return new ChatUnavailableError(`${method} failed: ${code}`, { cause: error });
}
