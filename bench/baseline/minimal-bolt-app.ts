// The benchmark's baseline: the smallest Bolt app on AwsLambdaReceiver that answers a slash
// command, as Bolt's own documentation writes it (authorize instead of token, so no auth.test).
import { App, AwsLambdaReceiver } from '@slack/bolt';

const receiver = new AwsLambdaReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '' });
const app = new App({ receiver, authorize: async () => ({ botToken: process.env.SLACK_BOT_TOKEN ?? '' }) });

app.command('/request_mysql_access', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'received' });
});

export const handler = receiver.toHandler();
