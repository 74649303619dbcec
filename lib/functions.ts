import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type IVpc, Peer, Port, SecurityGroup, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type Code,
  Function as LambdaFunction,
  type FunctionUrl,
  FunctionUrlAuthType,
  LoggingFormat,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SnsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AccessTopic, ExpirySchedules, RequestsTable } from './messaging.js';

/** The newest Node.js Lambda runtime aws-cdk-lib offers; the suite runs on the same major. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

interface FunctionProps {
  readonly code: Code;
  readonly environment: Record<string, string>;
  readonly memorySize?: number;
  readonly timeout: Duration;
  readonly description: string;
}

/**
 * A jit-access Lambda: arm64, the newest Node.js runtime, structured JSON logs in a log group
 * with a retention, and a role of its own that starts with nothing but writing those logs.
 */
export class JitFunction extends Construct {
  readonly fn: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(
    scope: Construct,
    id: string,
    props: FunctionProps & { readonly vpc?: VpcPlacement; deadLetters?: AccessTopic['deadLetters'] },
  ) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `jit-access ${id}: its own logs, and what its construct grants`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.vpc) {
      // Network interfaces in the customer's subnets; the managed policy is AWS's own for exactly that.
      this.role.addManagedPolicy(
        ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
    }
    this.fn = new LambdaFunction(this, 'Function', {
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code,
      description: props.description,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      ...(props.vpc
        ? { vpc: props.vpc.vpc, vpcSubnets: props.vpc.subnets, securityGroups: [props.vpc.securityGroup] }
        : {}),
      ...(props.deadLetters ? { onFailure: new SqsDestination(props.deadLetters), retryAttempts: 2 } : {}),
    });
  }
}

export interface VpcPlacement {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroup: SecurityGroup;
}

/** A Lambda Slack or Jira calls: a Function URL with no AWS auth (the request's signature is the authentication). */
export class IngressFunction extends Construct {
  readonly function: JitFunction;
  readonly url: FunctionUrl;

  constructor(
    scope: Construct,
    id: string,
    props: FunctionProps & { readonly access: AccessTopic; readonly secrets: readonly ISecret[] },
  ) {
    super(scope, id);
    this.function = new JitFunction(this, 'Lambda', props);
    props.access.topic.grantPublish(this.function.role);
    for (const secret of props.secrets) secret.grantRead(this.function.role);
    this.url = this.function.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
  }
}

export interface WorkerProps extends FunctionProps {
  readonly access: AccessTopic;
  readonly table: RequestsTable;
  readonly expiry: ExpirySchedules;
  readonly secrets: readonly ISecret[];
  readonly placement: VpcPlacement;
  readonly reservedConcurrency: number;
}

/** The worker: subscribed to the topic, in the customer's private subnets, allowed what its use cases do and no more. */
export class Worker extends Construct {
  readonly function: JitFunction;

  constructor(scope: Construct, id: string, props: WorkerProps) {
    super(scope, id);
    this.function = new JitFunction(this, 'Lambda', {
      ...props,
      vpc: props.placement,
      deadLetters: props.access.deadLetters,
    });
    const { fn, role } = this.function;
    // The scale a burst of expiries may reach, and no more: Vault and the directory set the pace.
    (fn.node.defaultChild as { reservedConcurrentExecutions?: number }).reservedConcurrentExecutions =
      props.reservedConcurrency;
    fn.addEventSource(new SnsEventSource(props.access.topic));
    props.access.topic.grantPublish(role);
    props.table.table.grantReadWriteData(role);
    for (const secret of props.secrets) secret.grantRead(role);
    const stack = Stack.of(this);
    // One-time expiry schedules, only in jit-access's own group, passing only the publish role.
    role.addToPolicy(
      new PolicyStatement({
        actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'],
        resources: [
          stack.formatArn({
            service: 'scheduler',
            resource: 'schedule',
            resourceName: `${props.expiry.groupName}/*`,
          }),
        ],
      }),
    );
    props.expiry.role.grantPassRole(role);
  }
}

/** The worker's security group: out to LDAPS, Vault and HTTPS only; nothing comes in. */
export function workerSecurityGroup(scope: Construct, vpc: IVpc, vaultPort: number): SecurityGroup {
  const group = new SecurityGroup(scope, 'WorkerSecurityGroup', {
    vpc,
    description: 'jit-access worker: LDAPS, Vault and HTTPS out; nothing in',
    allowAllOutbound: false,
  });
  group.addEgressRule(Peer.anyIpv4(), Port.tcp(636), 'LDAPS to the domain controllers');
  group.addEgressRule(Peer.anyIpv4(), Port.tcp(vaultPort), 'Vault');
  group.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS: Slack, Jira, AWS APIs');
  return group;
}
