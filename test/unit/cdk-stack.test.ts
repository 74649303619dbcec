import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_SCOPES } from '../../local/emulators/slack/slack-emulator.js';
import { DeployConfigError, loadDeployConfig, parseDeployConfig } from '../../lib/deploy-config.js';
import { LAMBDA_RUNTIME } from '../../lib/functions.js';
import { JitAccessStack } from '../../lib/jit-access-stack.js';
import { lambdaCode } from '../../lib/lambda-code.js';
import { bundleLambda } from '../../scripts/esbuild/lambda-bundle.js';
import { loadCatalogFile } from '../../shared/config/load-catalog.js';
import { parseTopicCommand } from '../../shared/messages/commands.js';

/*
 * The stack `cdk deploy` stands up, synthesized offline from the example deployment: what each
 * part may do (least privilege), how it is protected, and cdk-nag's AwsSolutions checks with no
 * finding left unacknowledged. Bundling is skipped here (the bundle is npm run build's, tested in
 * build.test.ts); one test runs the real `cdk synth` app.
 */

const root = join(import.meta.dirname, '../..');
const EXAMPLE = join(root, 'examples/jit-access.deploy.yaml');
const CATALOG = join(root, 'examples/jit-access.config.yaml');
let template: Template;
/** The feature flags `cdk synth` runs with (cdk.json), so the tests see the template it deploys. */
const FLAGS = (
  JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;
const context = (extra: Record<string, unknown> = {}) => ({
  ...FLAGS,
  'aws:cdk:bundling-stacks': [],
  ...extra,
});

function synth(withNag = false): { app: App; stack: JitAccessStack } {
  const synthApp = new App({ context: context() });
  const stack = new JitAccessStack(synthApp, 'JitAccess', {
    catalog: loadCatalogFile(CATALOG),
    catalogPath: CATALOG,
    deployment: loadDeployConfig(EXAMPLE),
  });
  if (withNag) Validations.of(synthApp).addPlugins(new AwsSolutionsChecks(synthApp));
  return { app: synthApp, stack };
}

beforeAll(() => {
  template = Template.fromStack(synth().stack);
});

/** Every statement of the inline policies attached to the role whose logical id starts with `prefix`. */
function statementsOf(prefix: string): { Action: string | string[]; Resource: unknown }[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(prefix)),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}
const actionsOf = (prefix: string) => new Set(statementsOf(prefix).flatMap((s) => [s.Action].flat()));

describe('the jit-access stack', () => {
  it('runs three Lambdas on the newest Node.js runtime, arm64, JSON logs with a retention', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('opens two Function URLs, with no AWS auth (Slack’s and Jira’s signatures are the authentication)', () => {
    template.resourceCountIs('AWS::Lambda::Url', 2);
    template.allResourcesProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });

  it('encrypts the topic, the dead-letter queue and the alarms topic with a rotated key of its own', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    // EventBridge (reconcile) and CloudWatch (alarms) publish by their service principals: the key lets them.
    const [key] = Object.values(template.findResources('AWS::KMS::Key'));
    const services = (
      key?.Properties.KeyPolicy.Statement as { Principal?: { Service?: string | string[] } }[]
    ).flatMap((statement) => [statement.Principal?.Service ?? []].flat());
    expect(services.sort()).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.allResourcesProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
  });

  it('keeps the requests table: on-demand, point-in-time recovery, deletion protection, the store’s keys and indexes', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'byRequester' }),
          Match.objectLike({ IndexName: 'byState' }),
        ],
      }),
    });
  });

  it('lets the ingress Lambdas publish and read their secrets, and nothing else', () => {
    for (const prefix of ['SlackIngress', 'JiraIngress']) {
      const actions = [...actionsOf(prefix)].filter((a) => !a.startsWith('logs:'));
      expect(actions.sort(), prefix).toEqual(
        [
          'kms:Decrypt',
          'kms:GenerateDataKey*',
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'sns:Publish',
        ].sort(),
      );
    }
  });

  it('lets Scheduler’s role only publish to the topic, assumed only for jit-access’s schedule group', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'jit-access' });
    expect([...actionsOf('ExpiryPublishRole')].sort()).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey*',
      'sns:Publish',
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ],
      },
    });
  });

  it('lets the worker manage schedules only in its group and pass only the publish role', () => {
    const statements = statementsOf('WorkerLambdaRole');
    const scheduling = statements.find((s) => [s.Action].flat().includes('scheduler:CreateSchedule'));
    expect([scheduling?.Action].flat().sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:GetSchedule',
    ]);
    expect(JSON.stringify(scheduling?.Resource)).toContain(':schedule/jit-access/*');
    const pass = statements.find((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(JSON.stringify(pass?.Resource)).toContain('ExpiryPublishRole');
    // No wildcard action anywhere but the KMS data-key grant cdk-nag is told about.
    for (const s of statements)
      for (const a of [s.Action].flat()) expect(a === '*' || a.endsWith(':*')).toBe(false);
  });

  it('places the worker in the private subnets, with egress to LDAPS, Vault and HTTPS only, and reserved concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^jit-access worker'),
      VpcConfig: {
        SubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1c2d3e4f5a60718'],
        SecurityGroupIds: Match.anyValue(),
      },
      ReservedConcurrentExecutions: 10,
    });
    const [group] = Object.values(template.findResources('AWS::EC2::SecurityGroup'));
    const egress = (group?.Properties.SecurityGroupEgress as { FromPort: number; ToPort: number }[]).map(
      (r) => r.FromPort,
    );
    expect(egress.sort((a, b) => a - b)).toEqual([443, 636, 8200]);
    expect(group?.Properties.SecurityGroupIngress).toBeUndefined();
  });

  it('sends the worker’s failed commands to the encrypted dead-letter queue after Lambda’s two retries', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda' });
  });

  it('publishes reconcile every 5 minutes, a command the worker accepts', () => {
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rule?.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    const transformer = rule?.Properties.Targets[0].InputTransformer;
    expect(transformer.InputPathsMap).toEqual({ id: '$.id', time: '$.time' });
    // What EventBridge publishes, an event's id and time put in, is a command the worker parses.
    const published = String(transformer.InputTemplate)
      .replace('<id>', 'a1b2c3d4-0000-4000-8000-000000000000')
      .replace('<time>', '"2026-12-03T12:00:00Z"');
    expect(parseTopicCommand(published)).toMatchObject({
      type: 'reconcile',
      commandId: 'reconcile:a1b2c3d4-0000-4000-8000-000000000000',
      issuedAt: '2026-12-03T12:00:00Z',
    });
  });

  it('alarms on the dead letters, worker errors, ack p99 above 1.5 s, failed or pending revocations, orphans and Slack refusals', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'Duration',
      'Errors',
      'OrphansSwept',
      'RevocationFailed',
      'RevocationsPending',
      'SlackRejected',
    ]);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    expect(alarms.find((a) => a.Properties.MetricName === 'Duration')?.Properties).toMatchObject({
      ExtendedStatistic: 'p99',
      Threshold: 1500,
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform-oncall@example.com',
    });
  });

  it('stores the five secrets in Secrets Manager and no Vault secret (Vault trusts the worker’s IAM role)', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 5);
    const env = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(env).toContain('"VAULT_AWS_ROLE":"jit-access-worker"');
    expect(env).not.toContain('VAULT_TOKEN');
  });

  it('passes cdk-nag’s AwsSolutions checks: every finding fixed or acknowledged with a reason', () => {
    const { app: nagApp } = synth(true);
    expect(() => nagApp.synth()).not.toThrow();
  });
});

describe('the Lambdas’ code', () => {
  it('is the bundle npm run build makes, byte for byte, made at synth with the local esbuild', async () => {
    const out = mkdtempSync(join(tmpdir(), 'jit-bundle-'));
    try {
      const bundleApp = new App({
        outdir: join(out, 'cdk.out'),
        context: { ...FLAGS, 'aws:cdk:enable-asset-metadata': true },
      });
      const stack = new Stack(bundleApp, 'Bundle');
      new LambdaFunction(stack, 'Ack', {
        runtime: LAMBDA_RUNTIME,
        handler: 'index.handler',
        code: lambdaCode('ack', CATALOG),
      });
      const assembly = bundleApp.synth();
      const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
      const deployed = readFileSync(
        join(assembly.directory, String(fn?.Metadata?.['aws:asset:path']), 'index.js'),
      );
      await bundleLambda('ack', join(out, 'built'), JSON.stringify(parseYaml(readFileSync(CATALOG, 'utf8'))));
      expect(deployed.equals(readFileSync(join(out, 'built', 'index.js')))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the deployment file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-deploy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const example = () => parseDeployConfig(readFileSync(EXAMPLE, 'utf8'));

  it('reads the example', () => {
    expect(example()).toMatchObject({ vault: { port: 8200 }, worker: { reservedConcurrency: 10 } });
  });

  it.each([
    [
      'a Vault over plain HTTP',
      'address: https://vault.example.com:8200',
      'address: http://vault.example.com:8200',
      /vault\.address: must be an https:\/\/ URL, e\.g\. https:\/\/vault\.example\.com:8200 \(line 18\)/,
    ],
    [
      'LDAP without TLS',
      'url: ldaps://dc1.corp.example.com',
      'url: ldap://dc1.corp.example.com',
      /ldap\.url: must be ldaps:\/\/host\[:port\].* \(line 23\)/,
    ],
    [
      'a misspelled setting',
      'alarmEmail:',
      'alarmEmial:',
      /alarmEmail: is missing\n[\s\S]*alarmEmial: not a setting here \(misspelled\?\) \(line 32\)/,
    ],
    [
      'a subnet id typed wrong',
      'subnet-0b1c2d3e4f5a60718',
      'sub-0b1c',
      /vpc\.privateSubnetIds\.1: must be a subnet id such as subnet-0a1b2c3d4e5f60718 \(line 14\)/,
    ],
  ])('refuses %s, naming the value and its line', (_name, from, to, message) => {
    const text = readFileSync(EXAMPLE, 'utf8').replace(from, to);
    expect(() => parseDeployConfig(text, 'jit-access.deploy.yaml')).toThrow(message);
  });

  it('refuses a Jira site that is not the catalog’s: one site, never two', () => {
    const deployment = {
      ...loadDeployConfig(EXAMPLE),
      jira: { site: 'https://other.atlassian.net', email: 'a@b.example' },
    };
    expect(
      () =>
        new JitAccessStack(new App({ context: context() }), 'JitAccess', {
          catalog: loadCatalogFile(CATALOG),
          catalogPath: CATALOG,
          deployment,
        }),
    ).toThrow(
      "jira.site: https://other.atlassian.net is not the catalog's global.jira.site (https://example.atlassian.net); make them the same, or leave jira.site out",
    );
    // Left out, the catalog's is used.
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).toContain(
      '"JIRA_BASE_URL":"https://example.atlassian.net"',
    );
  });

  it('puts the directory’s CA in the worker’s environment, and refuses one too big for Lambda’s 4 KB', () => {
    const stackWith = (pem: string) => {
      writeFileSync(join(dir, 'ca.pem'), pem);
      const deployment = { ...loadDeployConfig(EXAMPLE), directory: dir };
      return new JitAccessStack(new App({ context: context() }), 'JitAccess', {
        catalog: loadCatalogFile(CATALOG),
        catalogPath: CATALOG,
        deployment: { ...deployment, ldap: { ...deployment.ldap, caCertFile: 'ca.pem' } },
      });
    };
    const pem = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n-----END CERTIFICATE-----\n`;
    expect(JSON.stringify(Template.fromStack(stackWith(pem)).toJSON())).toContain(
      '"LDAP_CA_CERT":"-----BEGIN CERTIFICATE-----',
    );
    expect(() => stackWith(pem.repeat(40))).toThrow(
      /ldap\.caCertFile: ca\.pem is \d+ bytes; Lambda's environment holds at most 2500/,
    );
  });

  it('says a missing file is missing', () => {
    expect(() => loadDeployConfig(join(dir, 'nope.yaml'))).toThrow(DeployConfigError);
    expect(() => loadDeployConfig(join(dir, 'nope.yaml'))).toThrow(
      /nope\.yaml is not a valid deployment:\n {2}no such file/,
    );
  });

  it('cdk synth on a fresh clone: the example, said in one line; a broken file fails naming the value', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
        cwd: root,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          CDK_OUTDIR: join(dir, 'out'),
          CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
          ...env,
        },
      });
    const fresh = run({});
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stderr.split('\n').filter((l) => l.startsWith('jit-access:'))).toEqual([
      'jit-access: synthesizing the example deployment (examples/jit-access.deploy.yaml: placeholder VPC and endpoints); a real one names its own with -c deploy=path/to/jit-access.deploy.yaml',
    ]);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(
      broken,
      readFileSync(EXAMPLE, 'utf8').replace('alarmEmail: platform-oncall@example.com', 'alarmEmail: oncall'),
    );
    const bad = run({ JIT_ACCESS_DEPLOY: broken });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('alarmEmail: must be the e-mail address the alarms go to (line 32)');
  }, 60_000);
});

describe('slack-app-manifest.yaml', () => {
  it('asks for exactly the scopes jit-access is tested with, one slash command and interactivity', () => {
    const manifest = parseYaml(readFileSync(join(root, 'slack-app-manifest.yaml'), 'utf8')) as {
      oauth_config: { scopes: { bot: string[]; user?: string[] } };
      features: { slash_commands: { command: string; url: string }[] };
      settings: { interactivity: { is_enabled: boolean; request_url: string } };
    };
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...DEFAULT_SCOPES].sort());
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/request_mysql_access']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    // Placeholders the deploy output fills in, the same URL for both.
    expect(manifest.settings.interactivity.request_url).toBe(manifest.features.slash_commands[0]?.url);
    expect(manifest.settings.interactivity.request_url).toContain('REPLACE-WITH-SlackCommandsUrl');
  });
});
