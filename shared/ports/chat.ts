/** A Block Kit message with its plain-text fallback (notifications, screen readers). */
export interface ChatMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

/** Who a chat user is, as far as the chat platform knows. */
export interface ChatIdentity {
  /** The e-mail on the user's profile; undefined when the user is unknown, deleted or has none. */
  emailOf(userId: string): Promise<string | undefined>;
}

/** Tells people things in chat. */
export interface Notifier {
  /** A direct message to one user. */
  sendDirect(userId: string, message: ChatMessage): Promise<void>;
  /** A message in a channel; returns where it is, so it can be updated in place later. */
  post(channelId: string, message: ChatMessage): Promise<{ channelId: string; ts: string }>;
  /**
   * Replaces a message posted earlier. 'gone' when it no longer exists (deleted by someone): there
   * is nothing left to update, which is not an error.
   */
  update(channelId: string, ts: string, message: ChatMessage): Promise<'updated' | 'gone'>;
  /**
   * A message only `userId` sees, in `channelId` where they acted; a DM instead when the channel
   * cannot take it (the user left it, or the app is not in it).
   */
  sendEphemeral(channelId: string, userId: string, message: ChatMessage): Promise<void>;
}

/** Slack could not be reached or rate limited us beyond patience: transient, retry. */
export class ChatUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChatUnavailableError';
  }
}
