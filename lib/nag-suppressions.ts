import { Annotations, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The cdk-nag AwsSolutions findings jit-access accepts, each with the reason a security reviewer
 * would ask for; everything else is fixed in the constructs. Each is acknowledged on the
 * construct it belongs to, by its exact finding id, so a new finding of the same rule elsewhere
 * still fails the synth.
 */
export interface NagTargets {
  readonly workerRole: IConstruct;
  /** The ingress Lambdas' roles and Scheduler's publish role: they publish to the topic. */
  readonly publisherRoles: readonly IConstruct[];
  readonly secrets: readonly IConstruct[];
  readonly deadLetters: IConstruct;
  readonly subnets: readonly IConstruct[];
}

const KMS_DATA_KEY =
  'Publishing to the KMS-encrypted topic (and the dead-letter queue) needs kms:GenerateDataKey and GenerateDataKeyWithoutPlaintext; the grant is on the topic’s own key only, never on "*" keys';

export function applySuppressions(targets: NagTargets): void {
  for (const role of [targets.workerRole, ...targets.publisherRoles]) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: KMS_DATA_KEY,
    });
  }
  const worker = Validations.of(targets.workerRole);
  worker.acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason:
      'AWS’s own policy for a Lambda in a VPC: creating, describing and deleting its network interfaces, which EC2 only allows on Resource "*"; nothing else',
  });
  worker.acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    reason:
      'Lambda’s failure destination (the encrypted dead-letter queue) is granted kms:ReEncryptFrom/To by CDK’s SQS grant, on the topic’s key only',
  });
  worker.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::<RequestsTable00222A0D.Arn>/index/*]',
    reason: 'The store queries the table’s own two indexes (byRequester, byState); no other table',
  });
  worker.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/jit-access/*]',
    reason:
      'One-time expiry schedules are named after each request id, so their names are not known in advance; only jit-access’s own schedule group, and only Create/Get/Delete',
  });
  for (const secret of targets.secrets) {
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Issued by Slack, Jira and the directory, not by AWS: a rotation is re-issuing it there and putting the new value here (docs/deploy.md), which a rotation Lambda cannot do',
    });
  }
  Validations.of(targets.deadLetters).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'It is the dead-letter queue: the worker’s Lambda failure destination, which has no queue behind it',
  });
  for (const subnet of targets.subnets) {
    Annotations.of(subnet).acknowledgeWarning(
      '@aws-cdk/aws-ec2:noSubnetRouteTableId',
      'The worker only places network interfaces in these subnets; nothing reads their route tables',
    );
  }
}
