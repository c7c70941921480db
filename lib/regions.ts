// Fails the synth where the stack cannot deploy: a resource type the stack uses that CloudFormation does not offer in
// the target region (Timestream for LiveAnalytics in sa-east-1, IoT thing types and groups in af-south-1, ...) would
// otherwise only fail half-way through `cdk deploy`, after a rollback.
//
// The source of truth is the per-region CloudFormation resource schemas that aws-cdk-lib itself ships for its built-in
// template check (`@aws/cloudformation-validate`, rule F3006 "Resource type ... does not exist in <region>"): AWS
// maintains them from the CloudFormation registry of each region, so no hand-written region table can go stale here.
// This check runs on every synth, CDK_VALIDATION=false included, and names the flag that avoids the missing type.
import { createRequire } from 'node:module';
import { Annotations, CfnResource, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

interface SchemaValidator {
  validate(template: { toString(): string }, region?: string): { ruleId: string; message: string }[];
}
interface CloudFormationValidate {
  SchemaValidator: new () => SchemaValidator;
  TemplateContent: new (content: string, name?: string) => { toString(): string };
}

let validator: { module: CloudFormationValidate; schemas: SchemaValidator } | undefined;

/** The validator aws-cdk-lib depends on (resolved from aws-cdk-lib, whose own version it is), loaded once. */
function schemaValidator(): { module: CloudFormationValidate; schemas: SchemaValidator } {
  if (!validator) {
    const fromCdk = createRequire(createRequire(import.meta.url).resolve('aws-cdk-lib/package.json'));
    const module = fromCdk('@aws/cloudformation-validate') as CloudFormationValidate;
    validator = { module, schemas: new module.SchemaValidator() };
  }
  return validator;
}

/** The resource types of `types` that CloudFormation does not offer in `region`, sorted. */
export function unavailableResourceTypes(types: Iterable<string>, region: string): string[] {
  const unique = [...new Set(types)].sort();
  const { module, schemas } = schemaValidator();
  // A template of bare types: F3006 looks at the type alone, and property checks would only add noise here.
  const template = JSON.stringify({
    Resources: Object.fromEntries(unique.map((type, i) => [`R${i}`, { Type: type }])),
  });
  const missing = new Set<string>();
  for (const d of schemas.validate(new module.TemplateContent(template, 'types.json'), region)) {
    if (d.ruleId !== 'F3006') continue;
    const type = unique.find((t) => d.message.includes(`'${t}'`));
    if (type) missing.add(type);
  }
  return [...missing].sort();
}

/** Every CloudFormation resource type under `scope`. */
export function resourceTypesOf(scope: IConstruct): string[] {
  return [
    ...new Set(
      scope.node
        .findAll()
        .filter(CfnResource.isCfnResource)
        .map((r) => r.cfnResourceType),
    ),
  ].sort();
}

/** What to do about a type that is missing, where there is something to do. */
const REMEDIES: Record<string, string> = {
  'AWS::Timestream::Database': 'deploy with -c timeseries=dynamodb (the default)',
  'AWS::Timestream::Table': 'deploy with -c timeseries=dynamodb (the default)',
};

/**
 * Adds a synth-time check to `stack`: with a concrete region, every resource type of the stack must exist there, or
 * the synth fails naming the types and the region. An environment-agnostic stack (no region at synth) cannot be
 * checked: it says so in a warning and passes.
 */
export function checkRegionSupport(stack: Stack): void {
  stack.node.addValidation({
    validate: () => {
      if (Token.isUnresolved(stack.region)) {
        Annotations.of(stack).addWarningV2(
          'vpp:region-unchecked',
          'The region is not known at synth (environment-agnostic stack): whether every resource type exists there is not checked. Set CDK_DEFAULT_REGION (a configured AWS profile does) or -c region=<region>.',
        );
        return [];
      }
      const missing = unavailableResourceTypes(resourceTypesOf(stack), stack.region);
      if (missing.length === 0) return [];
      const remedies = [...new Set(missing.map((t) => REMEDIES[t]).filter(Boolean))];
      return [
        `${stack.stackName} cannot deploy to ${stack.region}: CloudFormation has no ${missing.join(', ')} there` +
          (remedies.length ? `; ${remedies.join('; ')}` : '') +
          '. Choose a supported region (docs/deploy.md, "Supported regions").',
      ];
    },
  });
}
