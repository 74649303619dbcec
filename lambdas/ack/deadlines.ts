/*
 * Slack drops an answer that takes over 3 s and shows the person an error, even for a command
 * that was queued. The Lambda answers only once its listener is done, so each outbound call has
 * a deadline: a publish and one Slack call (views.open, views.update or the response_url) fit
 * inside the limit together, with room for Lambda's own overhead. Apart from slack-app.ts so the
 * cold start does not load Bolt to read two numbers.
 */
export const SLACK_CALL_DEADLINE_MS = 800;
export const PUBLISH_DEADLINE_MS = 1500;
