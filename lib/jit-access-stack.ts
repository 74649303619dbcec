import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { SubnetFilter, Vpc } from 'aws-cdk-lib/aws-ec2';
import { EventField, Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { Catalog } from '../shared/config/catalog-schema.js';
import { COMMAND_VERSION } from '../shared/messages/commands.js';
import { type DeployConfig, DeployConfigError } from './deploy-config.js';
import { IngressFunction, Worker, workerSecurityGroup } from './functions.js';
import { lambdaCode } from './lambda-code.js';
import { AccessTopic, ExpirySchedules, RequestsTable } from './messaging.js';
import { applySuppressions } from './nag-suppressions.js';

export interface JitAccessStackProps extends StackProps {
  /** The validated catalog: synth refuses to run on an invalid one (see bin/app.ts). */
  readonly catalog: Catalog;
  /** Its file, bundled into the Lambdas. */
  readonly catalogPath: string;
  /** The validated deployment file (lib/deploy-config.ts). */
  readonly deployment: DeployConfig;
}

/** What of Lambda's 4 KB environment the directory's CA may take. */
const MAX_CA_CERT_BYTES = 2_500;

/** The deployed jit-access: one construct per concern, composed here. */
export class JitAccessStack extends Stack {
  readonly catalog: Catalog;

  constructor(scope: Construct, id: string, props: JitAccessStackProps) {
    super(scope, id, props);
    this.catalog = props.catalog;
    const d = props.deployment;
    // One Jira site: the catalog's (its links) and the deployment's (the API) must be the same.
    const catalogSite = props.catalog.global.jira.site.replace(/\/+$/, '');
    if (d.jira.site && d.jira.site.replace(/\/+$/, '') !== catalogSite) {
      throw new DeployConfigError('the deployment', [
        `jira.site: ${d.jira.site} is not the catalog's global.jira.site (${catalogSite}); make them the same, or leave jira.site out`,
      ]);
    }
    const jiraSite = d.jira.site ?? catalogSite;
    const caCert = d.ldap.caCertFile
      ? readFileSync(resolve(d.directory, d.ldap.caCertFile), 'utf8')
      : undefined;
    // Lambda allows 4 KB of environment in all, and the worker's other settings take about 1.5 KB:
    // a whole chain would fail the deploy with an error far from its cause.
    if (caCert && Buffer.byteLength(caCert) > MAX_CA_CERT_BYTES) {
      throw new DeployConfigError('the deployment', [
        `ldap.caCertFile: ${d.ldap.caCertFile} is ${Buffer.byteLength(caCert)} bytes; Lambda's environment holds at most ${MAX_CA_CERT_BYTES} for it. Give only the root CA that signed the domain controllers' certificates`,
      ]);
    }

    const access = new AccessTopic(this, 'Access');
    const requests = new RequestsTable(this, 'Requests');
    const expiry = new ExpirySchedules(this, 'Expiry', access);
    const secret = (name: string, description: string) =>
      new Secret(this, name, {
        description: `jit-access: ${description} (put the real value here after the first deploy)`,
      });
    const secrets = {
      slackSigning: secret('SlackSigningSecret', "the Slack app's signing secret"),
      slackBot: secret('SlackBotToken', "the Slack app's bot token (xoxb-…)"),
      jiraApi: secret('JiraApiToken', "the Jira account's API token"),
      jiraWebhook: secret('JiraWebhookSecret', "the Jira webhook's secret"),
      ldapBind: secret('LdapBindPassword', "the AD service account's password"),
    };

    const vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: d.vpc.id,
      availabilityZones: d.vpc.availabilityZones,
      privateSubnetIds: d.vpc.privateSubnetIds,
    });
    const securityGroup = workerSecurityGroup(this, vpc, d.vault.port);
    const code = (name: string) => lambdaCode(name, props.catalogPath);

    const ack = new IngressFunction(this, 'SlackIngress', {
      code: code('ack'),
      description: 'jit-access ack: answers Slack within 3 s and queues the command',
      timeout: Duration.seconds(10),
      memorySize: 1024,
      access,
      secrets: [secrets.slackSigning, secrets.slackBot],
      environment: {
        ACCESS_TOPIC_ARN: access.topic.topicArn,
        SLACK_SIGNING_SECRET_ARN: secrets.slackSigning.secretArn,
        SLACK_BOT_TOKEN_ARN: secrets.slackBot.secretArn,
        ...(d.slack.teamId ? { SLACK_TEAM_ID: d.slack.teamId } : {}),
      },
    });
    const jiraIngress = new IngressFunction(this, 'JiraIngress', {
      code: code('jira-webhook'),
      description: 'jit-access jira-webhook: verifies Jira webhooks and queues decisions',
      timeout: Duration.seconds(15),
      access,
      secrets: [secrets.jiraWebhook, secrets.jiraApi],
      environment: {
        ACCESS_TOPIC_ARN: access.topic.topicArn,
        JIRA_WEBHOOK_SECRET_ARN: secrets.jiraWebhook.secretArn,
        JIRA_API_TOKEN_ARN: secrets.jiraApi.secretArn,
        JIRA_BASE_URL: jiraSite,
        JIRA_EMAIL: d.jira.email,
      },
    });
    const worker = new Worker(this, 'Worker', {
      code: code('worker'),
      description: 'jit-access worker: checks AD, opens Jira tickets, grants through Vault, ends access',
      timeout: Duration.minutes(2),
      access,
      table: requests,
      expiry,
      secrets: [secrets.slackBot, secrets.jiraApi, secrets.ldapBind],
      placement: {
        vpc,
        subnets: { subnetFilters: [SubnetFilter.byIds(d.vpc.privateSubnetIds)] },
        securityGroup,
      },
      reservedConcurrency: d.worker.reservedConcurrency,
      environment: {
        ACCESS_TOPIC_ARN: access.topic.topicArn,
        REQUESTS_TABLE: requests.table.tableName,
        EXPIRY_SCHEDULE_GROUP: expiry.groupName,
        EXPIRY_SCHEDULER_ROLE_ARN: expiry.role.roleArn,
        SLACK_BOT_TOKEN_ARN: secrets.slackBot.secretArn,
        JIRA_API_TOKEN_ARN: secrets.jiraApi.secretArn,
        JIRA_BASE_URL: jiraSite,
        JIRA_EMAIL: d.jira.email,
        LDAP_URL: d.ldap.url,
        LDAP_SECURITY: 'ldaps',
        LDAP_BIND_DN: d.ldap.bindDn,
        LDAP_BIND_PASSWORD_ARN: secrets.ldapBind.secretArn,
        LDAP_BASE_DN: d.ldap.baseDn,
        ...(caCert ? { LDAP_CA_CERT: caCert } : {}),
        VAULT_ADDR: d.vault.address,
        VAULT_AWS_ROLE: d.vault.awsAuthRole,
        ...(d.vault.serverId ? { VAULT_AWS_SERVER_ID: d.vault.serverId } : {}),
        ...(d.vault.namespace ? { VAULT_NAMESPACE: d.vault.namespace } : {}),
      },
    });

    // reconcile every 5 minutes: the guard when a schedule, a webhook or a grant was lost.
    new Rule(this, 'Reconcile', {
      description: 'jit-access: publishes a reconcile command every 5 minutes',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [
        new SnsTopic(access.topic, {
          message: RuleTargetInput.fromObject({
            type: 'reconcile',
            version: COMMAND_VERSION,
            commandId: `reconcile:${EventField.eventId}`,
            issuedAt: EventField.time,
          }),
        }),
      ],
    });

    const alarms = new Topic(this, 'Alarms', {
      displayName: 'jit-access alarms',
      masterKey: access.key,
      enforceSSL: true,
    });
    alarms.addSubscription(new EmailSubscription(d.alarmEmail));
    const workerFn = worker.function.fn;
    const jitMetric = (name: string) =>
      new Metric({
        namespace: 'jit-access',
        metricName: name,
        dimensionsMap: { service: 'jit-access-worker' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const alarm = (id: string, description: string, metric: Metric, threshold = 0) =>
      new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(alarms));
    alarm(
      'DeadLettersAlarm',
      'Commands the worker gave up on are waiting in the dead-letter queue',
      access.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    );
    alarm(
      'WorkerErrorsAlarm',
      'The worker Lambda is failing',
      workerFn.metricErrors({ period: Duration.minutes(5) }),
    );
    alarm(
      'AckLatencyAlarm',
      "The ack Lambda's p99 is above 1.5 s: Slack gives up at 3 s",
      ack.function.fn.metricDuration({ period: Duration.minutes(5), statistic: 'p99' }),
      1500,
    );
    alarm(
      'RevocationFailedAlarm',
      'A revocation failed: someone may still have access',
      jitMetric('RevocationFailed'),
    );
    alarm(
      'RevocationsPendingAlarm',
      'Revocations are still pending (failed or irrevocable in Vault)',
      jitMetric('RevocationsPending'),
    );
    alarm('OrphansSweptAlarm', 'Reconcile swept temporary users no grant knew', jitMetric('OrphansSwept'));
    alarm(
      'SlackRejectedAlarm',
      'Slack refused jit-access for good (bot token, channel membership, scopes)',
      jitMetric('SlackRejected'),
    );

    applySuppressions({
      workerRole: worker.function.role,
      publisherRoles: [ack.function.role, jiraIngress.function.role, expiry.role],
      secrets: Object.values(secrets),
      deadLetters: access.deadLetters,
      subnets: vpc.privateSubnets,
    });

    new CfnOutput(this, 'SlackCommandsUrl', {
      description: 'Slack app: the slash command Request URL (and Interactivity Request URL)',
      value: ack.url.url,
    });
    new CfnOutput(this, 'JiraWebhookUrl', {
      description: 'Jira: the webhook URL',
      value: jiraIngress.url.url,
    });
    new CfnOutput(this, 'WorkerRoleArn', {
      description: "Vault: bind the AWS auth role's bound_iam_principal_arn to this role",
      value: worker.function.role.roleArn,
    });
  }
}
