/**
 * Escapes text a user typed before it is echoed in a Slack message. Slack turns `<!channel>`,
 * `<@U123>` and `<https://evil|innocent>` into pings and links only when `<`, `>` and `&` are raw;
 * escaped, they show as typed and do nothing.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Shows user text verbatim inside inline code, where Slack does not format. */
export function inlineCode(text: string): string {
  return `\`${escapeMrkdwn(text).replace(/`/g, "'")}\``;
}
