import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REQUEST_TABLE_DEFINITION } from '../shared/adapters/dynamodb/request-table.js';

/** The access topic, encrypted with a key of its own, and where the commands the worker gave up on go. */
export class AccessTopic extends Construct {
  readonly key: Key;
  readonly topic: Topic;
  readonly deadLetters: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'jit-access: the access topic and its dead-letter queue',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Services that publish to topics encrypted with this key by their own principal: EventBridge
    // (the reconcile rule) and CloudWatch (the alarms). Scheduler publishes with its role instead.
    // Without this, their messages are dropped without an error anyone sees.
    for (const service of ['events.amazonaws.com', 'cloudwatch.amazonaws.com']) {
      this.key.addToResourcePolicy(
        new PolicyStatement({
          principals: [new ServicePrincipal(service)],
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'],
        }),
      );
    }
    this.topic = new Topic(this, 'Topic', {
      displayName: 'jit-access commands',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }
}

/** The requests table: the keys and indexes the store uses (request-table.ts), kept safe from deletion. */
export class RequestsTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const type = (name: string) => {
      const definition = REQUEST_TABLE_DEFINITION.AttributeDefinitions.find((a) => a.AttributeName === name);
      if (definition?.AttributeType !== 'S') throw new Error(`request table: ${name} is not a string key`);
      return { name, type: AttributeType.STRING };
    };
    const [pk, sk] = REQUEST_TABLE_DEFINITION.KeySchema.map((k) => k.AttributeName);
    this.table = new Table(this, 'Table', {
      partitionKey: type(pk!),
      sortKey: type(sk!),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of REQUEST_TABLE_DEFINITION.GlobalSecondaryIndexes) {
      const [hash, range] = index.KeySchema.map((k) => k.AttributeName);
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: type(hash!),
        sortKey: type(range!),
      });
    }
  }
}

/** Expiry: the schedule group the worker's one-time schedules live in, and the role Scheduler uses to publish them. */
export class ExpirySchedules extends Construct {
  readonly group: CfnScheduleGroup;
  readonly groupName = 'jit-access';
  readonly role: Role;

  constructor(scope: Construct, id: string, access: AccessTopic) {
    super(scope, id);
    this.group = new CfnScheduleGroup(this, 'Group', { name: this.groupName });
    this.role = new Role(this, 'PublishRole', {
      description: 'EventBridge Scheduler: publishes grant.expire to the access topic, nothing else',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { ArnEquals: { 'aws:SourceArn': this.group.attrArn } },
      }),
    });
    access.topic.grantPublish(this.role);
  }
}
