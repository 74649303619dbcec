import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Catalog } from '../shared/config/catalog-schema.js';

export interface JitAccessStackProps extends StackProps {
  /** The validated catalog: synth refuses to run on an invalid one (see bin/app.ts). */
  readonly catalog: Catalog;
}

/** The deployed jit-access: its resources arrive with the intake, worker and deploy issues. */
export class JitAccessStack extends Stack {
  readonly catalog: Catalog;

  constructor(scope: Construct, id: string, props: JitAccessStackProps) {
    super(scope, id, props);
    this.catalog = props.catalog;
  }
}
