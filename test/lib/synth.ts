// Synthesizes the CDK app as `cdk synth` does, cdk-nag included: a finding nobody acknowledged fails the synth.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { HandlerFunction } from '../../lib/handler-function.js';
import { createVppApp } from '../../lib/vpp-app.js';
import type { VppStack } from '../../lib/vpp-stack.js';

// CDK's built-in CloudFormation schema check takes seconds per synth; `npm run synth` keeps running it.
process.env.CDK_VALIDATION = 'false';

export interface Synthesized {
  readonly stack: VppStack;
  readonly template: Template;
}

/** A stand-in for `web/dist` (the stack refuses to synthesize without a dashboard build): one index.html. */
export function fakeDashboardBuild(html = '<!doctype html><title>VPP test build</title>'): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpp-dist-'));
  writeFileSync(join(dir, 'index.html'), html);
  return dir;
}

let defaultSiteDir: string | undefined;

/** The context `cdk synth` reads from cdk.json: the feature flags the stack is deployed with. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/** What `cdk synth` gives the app (cdk.json's flags, `-c` on top), without bundling: for tests that build the app themselves. */
export function appContext(context: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...CDK_JSON_CONTEXT,
    'aws:cdk:bundling-stacks': [],
    siteDir: (defaultSiteDir ??= fakeDashboardBuild()),
    ...context,
  };
}

/**
 * `context` is what `-c key=value` passes; `siteDir` defaults to a fake dashboard build. Bundling the Lambdas is the
 * slow part of a synth, so it is skipped (CDK's own `aws:cdk:bundling-stacks` switch) unless a test is about the
 * bundles.
 */
export function synthVpp(context: Record<string, string> = {}, { bundle = false } = {}): Synthesized {
  const { stack } = createVppApp({
    context: {
      ...CDK_JSON_CONTEXT,
      siteDir: (defaultSiteDir ??= fakeDashboardBuild()),
      ...context,
      ...(!bundle && { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The template's resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, any> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}

/**
 * Every IAM statement the template gives the role with this name (its resolved `Ref`), one per resource: the
 * `@aws-cdk/aws-iam:minimizePolicies` flag merges statements of the same actions into one with a resource list.
 */
export function statementsOf(template: Template, roleRef: unknown): { Action: string | string[]; Resource: unknown }[] {
  // CDK moves what does not fit in a role's inline policy into managed "overflow" policies: both count
  const policies = {
    ...resourcesOf(template, 'AWS::IAM::Policy'),
    ...resourcesOf(template, 'AWS::IAM::ManagedPolicy'),
  };
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
    .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource.map((Resource) => ({ ...st, Resource })) : [st]));
}

/** Every IAM action the template grants the role with this name (its resolved `Ref`). */
export function actionsOf(template: Template, roleRef: unknown): string[] {
  return [...new Set(statementsOf(template, roleRef).flatMap((s) => [s.Action].flat()))];
}

export interface FunctionResource {
  Properties: { Runtime: string; Architectures: string[]; Handler: string; Role: unknown; Code: { S3Key: string } };
}

/** The template's resource of a project Lambda. */
export function functionResource({ stack, template }: Synthesized, fn: HandlerFunction): FunctionResource {
  const { Ref } = stack.resolve(fn.function.functionName) as { Ref: string };
  return (template.toJSON().Resources as Record<string, FunctionResource>)[Ref]!;
}

/** The staged asset of a bundled Lambda: `<hash>.zip` in the template is the directory `asset.<hash>` of the cloud assembly. */
export function bundleDir(synth: Synthesized, fn: HandlerFunction): string {
  return join(
    Stage.of(synth.stack)!.outdir,
    `asset.${functionResource(synth, fn).Properties.Code.S3Key.replace(/\.zip$/, '')}`,
  );
}

/** Every project Lambda of the stack, by handler folder. */
export function handlerFunctions(stack: VppStack): [string, HandlerFunction][] {
  return [
    ...Object.entries(stack.ingest.functions),
    ['command-timeouts', stack.ingest.commandTimeouts],
    ['rollups', stack.ingest.rollups],
    ['api', stack.api.handler],
    ['iot-authorizer', stack.liveFeed.handler],
    ['provisioning-hook', stack.provisioning.hook],
  ];
}
