import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes, type RouteDefinition } from '../../lambdas/api/routes.js';
import { authDomainName } from '../../lib/api.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { actionsOf, resourcesOf, statementsOf, synthVpp } from './synth.js';

const routeKey = (r: RouteDefinition) => `${r.method} ${r.path}`;

describe('given the stack, when synthesized, then the HTTP API', () => {
  let stack: VppStack;
  let template: Template;
  let deployedRoutes: { RouteKey: string; AuthorizationType: string; AuthorizerId?: unknown; Target: unknown }[];

  beforeAll(() => {
    ({ stack, template } = synthVpp());
    deployedRoutes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties as never);
  });

  it('serves exactly the shared route table, every route on the one api Lambda', () => {
    expect(deployedRoutes.map((r) => r.RouteKey).sort()).toEqual(
      (routes as readonly RouteDefinition[]).map(routeKey).sort(),
    );
    const [integration, ...others] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'));
    expect(others).toHaveLength(0);
    expect(integration!.Properties.IntegrationUri).toEqual(stack.resolve(stack.api.handler.function.functionArn));
    for (const route of deployedRoutes) expect(JSON.stringify(route.Target)).toContain('integrations/');
  });

  it('puts the Cognito JWT authorizer on every route but GET /health and GET /api/openapi.json', () => {
    const [authorizerId] = Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'));
    const open = ['GET /health', 'GET /api/openapi.json'];
    const guarded = deployedRoutes.filter((r) => !open.includes(r.RouteKey));
    expect(guarded.length).toBeGreaterThan(0);
    for (const route of guarded) {
      expect(route, route.RouteKey).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }
    for (const key of open)
      expect(
        deployedRoutes.find((r) => r.RouteKey === key),
        key,
      ).toMatchObject({ AuthorizationType: 'NONE' });
    expect((routes as readonly RouteDefinition[]).filter((r) => r.role === 'public').map(routeKey)).toEqual(open);
  });

  it('accepts only tokens the user pool issued for the dashboard client', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [stack.resolve(stack.api.userPoolClient.userPoolClientId)],
        Issuer: {
          'Fn::Join': [
            '',
            [
              'https://cognito-idp.',
              { Ref: 'AWS::Region' },
              '.',
              { Ref: 'AWS::URLSuffix' },
              '/',
              stack.resolve(stack.api.userPool.userPoolId),
            ],
          ],
        },
      },
    });
  });

  it('has a user pool without self sign-up and with a strong password policy', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 14,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
      UserPoolTier: 'PLUS',
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false });
  });

  it('signs operators in on a hosted domain of the pool, named after the stack and unique per stack', () => {
    const domains = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolDomain'));
    expect(domains).toHaveLength(1);
    expect(domains[0]!.Properties).toEqual({
      UserPoolId: stack.resolve(stack.api.userPool.userPoolId),
      // vpp-<first group of the stack's UUID>: resolved at deploy
      Domain: {
        'Fn::Join': [
          '',
          [
            'vpp-',
            {
              'Fn::Select': [
                0,
                { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
              ],
            },
          ],
        ],
      },
    });
  });

  it('makes a legal domain prefix of any stack name', () => {
    const legal = /^[a-z0-9](?:[a-z0-9-]{0,52}[a-z0-9])?$/; // 63 characters with "-" and 8 hex digits
    const cases: [string, string][] = [
      ['Vpp', 'vpp'],
      ['VppStaging', 'vppstaging'],
      ['Staging', 'vpp-staging'],
      ['Vpp-Staging_2', 'vpp-staging-2'],
      ['MyAwsCognitoAmazonStack', 'vpp-mystack'],
      ['awamazons', 'vpp'],
      ['A'.repeat(128), `vpp-${'a'.repeat(50)}`],
    ];
    for (const [stackName, prefix] of cases) {
      expect(authDomainName(stackName), stackName).toBe(prefix);
      expect(authDomainName(stackName)).toMatch(legal);
      expect(authDomainName(stackName)).not.toMatch(/aws|amazon|cognito/);
    }
  });

  it('lets the dashboard client sign in with the authorization code grant only, as a public client (PKCE)', () => {
    const clients = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'));
    expect(clients).toHaveLength(1);
    const client = clients[0]!.Properties;
    expect(client).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      SupportedIdentityProviders: ['COGNITO'],
      RefreshTokenValidity: 1440,
    });
    const dashboardRoot = {
      'Fn::Join': ['', ['https://', stack.resolve(stack.dashboard.distribution.distributionDomainName), '/']],
    };
    expect(client.CallbackURLs).toEqual([dashboardRoot]);
    expect(client.LogoutURLs).toEqual([dashboardRoot]);
  });

  it('adds a callback and sign-out URL for each origin given with -c corsOrigins', () => {
    const { template: withLocal } = synthVpp({ corsOrigins: 'http://localhost:5173' });
    const [client] = Object.values(resourcesOf(withLocal, 'AWS::Cognito::UserPoolClient'));
    expect(client!.Properties.CallbackURLs).toEqual([expect.anything(), 'http://localhost:5173/']);
    expect(client!.Properties.LogoutURLs).toEqual([expect.anything(), 'http://localhost:5173/']);
  });

  it('throttles the default stage, logs access and allows the dashboard origin', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: [stack.resolve(stack.dashboard.url)],
        AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
      }),
    });
  });

  it('adds origins given with -c corsOrigins', () => {
    const { template: withLocal } = synthVpp({ corsOrigins: 'http://localhost:5173' });
    withLocal.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: [Match.anyValue(), 'http://localhost:5173'] }),
    });
  });

  it('lets the api Lambda read shadows, publish commands and revoke devices, on scoped ARNs only', () => {
    const iot = (resource: string) => ({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':iot:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, resource],
      ],
    });
    const pairs = statementsOf(template, stack.resolve(stack.api.handler.role.roleName)).flatMap((st) =>
      [st.Action]
        .flat()
        .filter((a) => a.startsWith('iot:'))
        .map((a) => [a, st.Resource]),
    );
    const sorted = (list: unknown[][]) => list.map((p) => JSON.stringify(p)).sort();
    expect(sorted(pairs)).toEqual(
      sorted([
        ['iot:GetThingShadow', iot(':thing/*')],
        ['iot:ListThingPrincipals', iot(':thing/*')],
        ['iot:UpdateThing', iot(':thing/*')],
        // IAM authorizes both detaches on the certificate, the principal being detached
        ['iot:UpdateCertificate', iot(':cert/*')],
        ['iot:DetachPolicy', iot(':cert/*')],
        ['iot:DetachThingPrincipal', iot(':cert/*')],
        ['iot:Publish', iot(':topic/ven/cmd/*')],
        ['iot:Publish', iot(':topic/winter-river/*/command')],
        ['iot:Publish', iot(':topic/edge/*/control')],
      ]),
    );
    const actions = actionsOf(template, stack.resolve(stack.api.handler.role.roleName));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem']));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.api.handler.role.roleArn),
      Environment: { Variables: Match.objectLike({ DEVICE_POLICY_NAME: stack.resolve(stack.fleet.devicePolicy.ref) }) },
    });
  });

  it('gives the api Lambda no access to the provisioning allow-list', () => {
    const allowList = JSON.stringify(stack.resolve(stack.storage.tables.allowList.tableArn));
    const statements = statementsOf(template, stack.resolve(stack.api.handler.role.roleName));
    expect(statements.filter((st) => JSON.stringify(st.Resource).includes(allowList.slice(1, -1)))).toEqual([]);
  });

  it('lets the api Lambda read the refusal log and the fleet events by month, and names the refusals table to it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.api.handler.role.roleArn),
      Environment: {
        Variables: Match.objectLike({ REFUSALS_TABLE: stack.resolve(stack.storage.tables.refusals.tableName) }),
      },
    });
    for (const table of [stack.storage.tables.refusals, stack.storage.tables.fleetEvents]) {
      const arn = JSON.stringify(stack.resolve(table.tableArn));
      const statements = statementsOf(template, stack.resolve(stack.api.handler.role.roleName)).filter((st) =>
        JSON.stringify(st.Resource).includes(arn),
      );
      const actions = statements.flatMap((st) => [st.Action].flat());
      expect(actions).toContain('dynamodb:Query');
      expect(JSON.stringify(statements)).toContain('/index/*');
    }
  });

  it('creates one Cognito group per role in the operators pool, the highest role first', () => {
    const groups = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolGroup')).map((g) => g.Properties);
    expect(groups.map((g) => [g.GroupName, g.Precedence])).toEqual([
      ['admin', 0],
      ['operator', 1],
      ['viewer', 2],
    ]);
    for (const group of groups) {
      expect(group.UserPoolId).toEqual(stack.resolve(stack.api.userPool.userPoolId));
      expect(group.Description).toEqual(expect.any(String));
    }
  });

  it('lets the api Lambda claim, read and complete idempotency keys, and names their table to it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.api.handler.role.roleArn),
      Environment: {
        Variables: Match.objectLike({ IDEMPOTENCY_TABLE: stack.resolve(stack.storage.tables.idempotency.tableName) }),
      },
    });
    const arn = JSON.stringify(stack.resolve(stack.storage.tables.idempotency.tableArn));
    const statements = statementsOf(template, stack.resolve(stack.api.handler.role.roleName)).filter((st) =>
      JSON.stringify(st.Resource).includes(arn),
    );
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
    );
  });

  it('lets the api Lambda put metadata and append to the ledger, and never update or delete either', () => {
    for (const name of ['metadata', 'ledger'] as const) {
      const table = stack.storage.tables[name];
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: stack.resolve(stack.api.handler.role.roleArn),
        Environment: {
          Variables: Match.objectLike({
            [name === 'ledger' ? 'LEDGER_TABLE' : 'METADATA_TABLE']: stack.resolve(table.tableName),
          }),
        },
      });
      const arn = JSON.stringify(stack.resolve(table.tableArn));
      const actions = statementsOf(template, stack.resolve(stack.api.handler.role.roleName))
        .filter((st) => JSON.stringify(st.Resource).includes(arn))
        .flatMap((st) => [st.Action].flat());
      expect(actions, name).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query']));
      expect(
        actions.filter((a: string) => /UpdateItem|DeleteItem|BatchWriteItem/.test(a)),
        name,
      ).toEqual([]);
    }
  });

  it('tells the api Lambda its IoT data endpoint as an https URL', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.api.handler.role.roleArn),
      Environment: {
        Variables: Match.objectLike({
          IOT_DATA_ENDPOINT: { 'Fn::Join': ['', ['https://', stack.resolve(stack.fleet.dataEndpoint)]] },
        }),
      },
    });
  });
});
