// The synthesized IAM policy of each deployed function, resolved to the symbolic form the local stack records its
// calls in (bin/local/aws/aws-calls.ts): `${AWS::Region}`, `${AWS::AccountId}`, a resource's generated name as
// `${LogicalId}`, an ARN from Fn::GetAtt as the ARN that name gives. Synthesized once per test run: the first process
// that needs it writes it to the run's temporary folder and the others read it.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Statement {
  /** `<policy logical id>[<index>]`. */
  readonly id: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions?: string[];
  readonly notActions?: string[];
  readonly resources?: string[];
  readonly notResources?: string[];
  /** The statement's Condition, which these checks do not evaluate (they list it). */
  readonly condition?: unknown;
}

export interface FunctionPolicy {
  readonly statements: Statement[];
  /** Environment variable → its resolved value (`${StorageDevices124B4481}` for a table's Ref). */
  readonly environment: Record<string, string>;
  /** Managed policies attached to the role, not evaluated here. */
  readonly managedPolicies: string[];
}

export type RolePolicies = Record<string, FunctionPolicy>;

/** Where a resource's generated name and ARN come from, by CloudFormation type. */
const ARN_OF: Record<string, (id: string) => string> = {
  'AWS::DynamoDB::Table': (id) => `arn:aws:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/\${${id}}`,
  'AWS::SQS::Queue': (id) => `arn:aws:sqs:\${AWS::Region}:\${AWS::AccountId}:\${${id}}`,
  'AWS::Kinesis::Stream': (id) => `arn:aws:kinesis:\${AWS::Region}:\${AWS::AccountId}:stream/\${${id}}`,
  'AWS::Logs::LogGroup': (id) => `arn:aws:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${id}}:*`,
  'AWS::IoT::Policy': (id) => `arn:aws:iot:\${AWS::Region}:\${AWS::AccountId}:policy/\${${id}}`,
  'AWS::S3::Bucket': (id) => `arn:aws:s3:::\${${id}}`,
  'AWS::Lambda::Function': (id) => `arn:aws:lambda:\${AWS::Region}:\${AWS::AccountId}:function:\${${id}}`,
};

const PSEUDO: Record<string, string> = {
  'AWS::Region': '${AWS::Region}',
  'AWS::AccountId': '${AWS::AccountId}',
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': '${AWS::StackName}',
};

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** A CloudFormation value as a string in the symbolic form; what it cannot resolve becomes `${?…}`, which no call matches. */
export function resolve(value: unknown, resources: Resources): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if ('Ref' in v) return PSEUDO[v.Ref] ?? `\${${v.Ref}}`;
    if ('Fn::GetAtt' in v) {
      const [id, attr] = Array.isArray(v['Fn::GetAtt']) ? v['Fn::GetAtt'] : String(v['Fn::GetAtt']).split('.');
      const arn = ARN_OF[resources[id]?.Type ?? ''];
      return attr === 'Arn' && arn ? arn(id) : `\${${id}.${attr}}`;
    }
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolve(p, resources)).join(sep);
    }
    if ('Fn::Sub' in v) {
      const [text, vars = {}] = (Array.isArray(v['Fn::Sub']) ? v['Fn::Sub'] : [v['Fn::Sub']]) as [
        string,
        Record<string, unknown>?,
      ];
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
        name in vars
          ? resolve(vars[name], resources)
          : name.includes('.')
            ? resolve({ 'Fn::GetAtt': name.split('.') }, resources)
            : resolve({ Ref: name }, resources),
      );
    }
  }
  return `\${?${JSON.stringify(value)}}`;
}

const list = (v: unknown): unknown[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** The role policies of every project Lambda, from a synthesized template and the function → (function, role) logical ids. */
export function rolePoliciesOf(
  template: { Resources: Resources },
  functions: Record<string, { functionId: string; roleId: string }>,
): RolePolicies {
  const resources = template.Resources;
  const policies = Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy',
  );
  const out: RolePolicies = {};
  for (const [name, { functionId, roleId }] of Object.entries(functions)) {
    const statements: Statement[] = [];
    for (const [policyId, policy] of policies) {
      if (!(policy.Properties?.Roles ?? []).some((r: { Ref?: string }) => r.Ref === roleId)) continue;
      (policy.Properties!.PolicyDocument.Statement as Record<string, any>[]).forEach((st, i) => {
        const strings = (v: unknown) => list(v)?.map((x) => resolve(x, resources));
        statements.push({
          id: `${policyId}[${i}]`,
          effect: st.Effect,
          ...(st.Action !== undefined && { actions: strings(st.Action) }),
          ...(st.NotAction !== undefined && { notActions: strings(st.NotAction) }),
          ...(st.Resource !== undefined && { resources: strings(st.Resource) }),
          ...(st.NotResource !== undefined && { notResources: strings(st.NotResource) }),
          ...(st.Condition !== undefined && { condition: st.Condition }),
        });
      });
    }
    const variables = (resources[functionId]?.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
    out[name] = {
      statements,
      environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v, resources)])),
      managedPolicies: (resources[roleId]?.Properties?.ManagedPolicyArns ?? []).map((a: unknown) =>
        resolve(a, resources),
      ),
    };
  }
  return out;
}

/** The default deploy's (`cdk synth`, DynamoDB time series) role policies, synthesized once per test run. */
export async function deployedRolePolicies(): Promise<RolePolicies> {
  const runDir = process.env.TMPDIR?.includes('vpp-test-run-') ? tmpdir() : undefined;
  const file = runDir && join(runDir, 'vpp-iam-role-policies.json');
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as RolePolicies;
  const { synthVpp, handlerFunctions } = await import('../lib/synth.js');
  const { stack, template } = synthVpp();
  const ref = (v: unknown) => (stack.resolve(v) as { Ref: string }).Ref;
  const functions = Object.fromEntries(
    handlerFunctions(stack).map(([name, fn]) => [
      name,
      { functionId: ref(fn.function.functionName), roleId: ref(fn.role.roleName) },
    ]),
  );
  const policies = rolePoliciesOf(template.toJSON() as { Resources: Resources }, functions);
  if (file) {
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, JSON.stringify(policies));
    renameSync(partial, file);
  }
  return policies;
}
