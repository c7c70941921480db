// The operators' HTTP API: every route of lambdas/api/routes.ts on one Lambda, behind Cognito JWTs except the
// routes the table marks public; and the operators' sign-in: the user pool, its role groups (the handler checks each
// route's role against them), its hosted domain and the dashboard's app client (authorization code + PKCE).
import { Aws, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  LogGroupLogDestination,
  type HttpStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClientIdentityProvider,
  type UserPoolClient,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IDEMPOTENCY_HEADER } from '../lambdas/api/idempotency.js';
import { ROLES, type Role } from '../lambdas/core/contracts/roles.js';
import { routes, type RouteDefinition } from '../lambdas/api/routes.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import type { Fleet } from './fleet.js';
import { topologyJson, type Topology } from '../lambdas/core/contracts/topology.js';
import { HandlerFunction } from './handler-function.js';
import type { Storage } from './storage.js';

export interface ApiProps {
  readonly storage: Storage;
  readonly fleet: Fleet;
  /** The Winter River power chain: GET /api/winter-river/system lists its nodes. */
  readonly topology: Topology;
  /**
   * Browser origins of the dashboard (its own first, plus any given on the command line, e.g. a Vite dev server):
   * they may call the API, and Cognito sends operators back to `<origin>/` after sign-in and sign-out.
   */
  readonly corsOrigins: string[];
  /** Prefix of the hosted sign-in domain `https://<prefix>.auth.<region>.amazoncognito.com`. @default authDomainPrefix(stack) */
  readonly authDomainPrefix?: string;
  /** Default stage throttling. @default 50 requests per second, bursts of 100 */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** What `cdk destroy` does to the user pool (the operators' accounts). @default RemovalPolicy.RETAIN */
  readonly userPoolRemovalPolicy?: RemovalPolicy;
}

/**
 * One JSON line per request, in HTTP API `$context` variables: CDK's `jsonWithStandardFields()` names REST API ones
 * (`$context.identity.caller`, `$context.resourcePath`, ...), which an HTTP API logs empty.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
} as const;

const RESERVED_IN_DOMAIN_PREFIX = /aws|amazon|cognito/g;

/**
 * A Cognito prefix domain for this stack: `vpp-<stack name>-<8 hex digits of the stack's id>`. Prefixes are global
 * across AWS accounts, so the stack id (a UUID per stack, known at deploy) makes it unique and keeps it stable over
 * updates. Cognito allows `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$` and no "aws", "amazon" or "cognito" in it.
 */
export function authDomainPrefix(stack: Stack): string {
  const uuid = Fn.select(2, Fn.split('/', stack.stackId));
  return `${authDomainName(stack.stackName)}-${Fn.select(0, Fn.split('-', uuid))}`;
}

/** The readable part of {@link authDomainPrefix}: the stack name made legal, at most 54 characters. */
export function authDomainName(stackName: string): string {
  let name = Token.isUnresolved(stackName) ? '' : stackName.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  // Removing one reserved word can join the letters around it into another ("awamazons"): until none is left.
  for (let before = ''; before !== name;) [before, name] = [name, name.replace(RESERVED_IN_DOMAIN_PREFIX, '')];
  name = name.replace(/-+/g, '-').replace(/^-|-$/g, '');
  if (!name.startsWith('vpp')) name = name ? `vpp-${name}` : 'vpp';
  return name.slice(0, 63 - '-12345678'.length).replace(/-+$/, '');
}

export class Api extends Construct {
  readonly userPool: UserPool;
  readonly userPoolClient: UserPoolClient;
  /** The hosted sign-in (managed login) domain: the dashboard's OAuth authorize, token and logout endpoints. */
  readonly authDomain: UserPoolDomain;
  /** One group per role (`viewer`, `operator`, `admin`): add an operator to one to let them in. */
  readonly groups: Record<Role, CfnUserPoolGroup>;
  readonly handler: HandlerFunction;
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.userPool = this.operatorPool(props.userPoolRemovalPolicy ?? RemovalPolicy.RETAIN);
    this.groups = this.roleGroups();
    this.authDomain = this.userPool.addDomain('HostedSignIn', {
      cognitoDomain: { domainPrefix: props.authDomainPrefix ?? authDomainPrefix(Stack.of(this)) },
    });
    const dashboardUrls = props.corsOrigins.map((origin) => `${origin}/`);
    this.userPoolClient = this.userPool.addClient('Dashboard', {
      authFlows: { userSrp: true },
      // A browser app cannot keep a secret: a public client, and PKCE protects its authorization codes.
      generateSecret: false,
      preventUserExistenceErrors: true,
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        // Code grant only: the implicit grant puts tokens in the URL.
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: dashboardUrls,
        logoutUrls: dashboardUrls,
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });

    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'api',
      description: 'The operators HTTP API',
      // the battery-schedule route's LP solver (core/optimise/solver.ts), loaded on first use from beside the bundle
      packages: ['highs'],
      environment: {
        ...props.storage.environment,
        IOT_DATA_ENDPOINT: `https://${props.fleet.dataEndpoint}`,
        DEVICE_POLICY_NAME: props.fleet.devicePolicy.ref,
        WINTER_RIVER_TOPOLOGY: topologyJson(props.topology),
      },
    });
    this.grantHandler(props);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'VPP operators API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.corsOrigins,
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
          CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type', IDEMPOTENCY_HEADER.toLowerCase()],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.addRoutes();
  }

  /** The API's base URL, without a trailing slash (the routes live on the `$default` stage). */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }

  /** `https://<prefix>.auth.<region>.amazoncognito.com`, without a trailing slash. */
  get authUrl(): string {
    return this.authDomain.baseUrl();
  }

  private operatorPool(removalPolicy: RemovalPolicy): UserPool {
    const pool = new UserPool(this, 'Operators', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Operators dispatch DR events and admins revoke devices: a second factor always, TOTP only (no SMS). The hosted
      // sign-in enrols the authenticator app (QR code) at the first sign-in. MFA required is set when the pool is made.
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy,
    });
    return pool;
  }

  /**
   * The roles as Cognito groups. Tokens carry the user's groups in `cognito:groups`, which the handler reads; a user
   * in none of them is refused every route but /health. Precedence: the highest role first (0 = admin).
   */
  private roleGroups(): Record<Role, CfnUserPoolGroup> {
    const descriptions: Record<Role, string> = {
      viewer: 'Reads the fleet, its telemetry, events and refused input; sends nothing.',
      operator: 'Also sends DR events, restores, dispatches and Winter River commands.',
      admin: 'Also writes device data over HTTP (POST /api/telemetry), inventory and provisioning.',
    };
    const highestFirst = [...ROLES].reverse();
    return Object.fromEntries(
      highestFirst.map((role, precedence) => [
        role,
        new CfnUserPoolGroup(this, `Group-${role}`, {
          userPoolId: this.userPool.userPoolId,
          groupName: role,
          description: descriptions[role],
          precedence,
        }),
      ]),
    ) as Record<Role, CfnUserPoolGroup>;
  }

  /** The shared route table (lambdas/api/routes.ts) is the API: the local stack serves the very same routes. */
  private addRoutes(): void {
    // One permission for the whole API (`<api>/*/*`), not one per route: 50 route-scoped statements are about 21 KB,
    // over Lambda's 20,480-byte resource-based policy limit, and the first deploy fails on it.
    const integration = new HttpLambdaIntegration('Handler', this.handler.function, { scopePermissionToRoute: false });
    const issuer = `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.userPool.userPoolId}`;
    const authorizer = new HttpJwtAuthorizer('Cognito', issuer, {
      jwtAudience: [this.userPoolClient.userPoolClientId],
    });
    for (const { method, path, role } of routes as readonly RouteDefinition[]) {
      const isPublic = role === 'public';
      const [route] = this.httpApi.addRoutes({
        path,
        methods: [HttpMethod[method]],
        integration,
        authorizer: isPublic ? new HttpNoneAuthorizer() : authorizer,
      });
      if (isPublic && route) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${method} ${path} is public by the shared route table (${path === '/health' ? 'the liveness probe' : "the API's published contract"}) and returns no fleet data.`,
        });
      }
    }
  }

  /** What the operator API may touch, and which routes need it. */
  private grantHandler({ storage, fleet }: ApiProps): void {
    // Each table's item actions the API's code makes, and nothing else (not the provisioning allow-list, whose serials
    // only the hook and `npm run provision` touch). A registry read is a Query of the device's items, a list the
    // byKind index and one BatchGetItem of the states; POST /api/telemetry (the HTTP fallback of the metering rule,
    // which records what the rule would) updates the device's heartbeat.
    storage.grantCalls(this.handler, 'devices', ['Query', 'BatchGetItem', 'UpdateItem'], { indexes: true });
    storage.grantCalls(this.handler, 'events', ['Query']); // a VEN's ACK history
    // send-event, restore, dispatch, node command: recorded, read back, and discarded if the publish fails
    storage.grantCalls(this.handler, 'commands', ['GetItem', 'PutItem', 'DeleteItem']);
    // POST /api/events and its end and cancel: the event, the VENs' commitment items, the report and its parts
    storage.grantCalls(this.handler, 'fleetEvents', ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'], {
      indexes: true,
    });
    storage.grantCalls(this.handler, 'inventory', ['GetItem', 'Query']);
    storage.grantCalls(this.handler, 'refusals', ['Query'], { indexes: true }); // GET /api/refused
    // Idempotency-Key on the command routes: claim, complete, release
    storage.grantCalls(this.handler, 'idempotency', ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
    storage.grantCalls(this.handler, 'powerSystem', ['GetItem']);
    // POST and PATCH /api/metadata: conditional puts only; listed by its indexes
    storage.grantCalls(this.handler, 'metadata', ['GetItem', 'PutItem'], { indexes: true });
    // POST /api/transactions and every command sent: read the head, append after it; never update or delete
    storage.grantCalls(this.handler, 'ledger', ['Query', 'PutItem']);
    // rollup rows read; a late reading's rollup bucket marked dirty, as the rule does
    storage.grantCalls(this.handler, 'rollups', ['Query', 'PutItem']);
    // POST, PATCH and DELETE /api/programs (PATCH is a conditional put); GET /api/programs lists the few programs whole
    storage.grantCalls(this.handler, 'programs', ['GetItem', 'PutItem', 'DeleteItem', 'Scan']);
    storage.grantTimeseriesRead(this.handler); // telemetry, circuits/history
    storage.grantTimeseriesWrite(this.handler);
    const commandTopics = [topics.command('*'), topics.winterRiverCommand('*'), topics.edgeControl('*')];
    this.handler.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['iot:GetThingShadow'], resources: [`${fleet.arnPrefix}:thing/*`] }),
    );
    // POST /api/devices/{thingName}/revoke (admin): the thing's certificates revoked and detached, the thing marked.
    // IAM scopes DetachPolicy and DetachThingPrincipal to the certificate (the target principal), not to the policy
    // or the thing (Service Authorization Reference, AWS IoT).
    this.handler.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iot:ListThingPrincipals', 'iot:UpdateThing'],
        resources: [`${fleet.arnPrefix}:thing/*`],
      }),
    );
    this.handler.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iot:UpdateCertificate', 'iot:DetachPolicy', 'iot:DetachThingPrincipal'],
        resources: [`${fleet.arnPrefix}:cert/*`],
      }),
    );
    this.handler.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iot:Publish'],
        resources: commandTopics.map((t) => `${fleet.arnPrefix}:topic/${t}`),
      }),
    );
    const finding = (resource: string) =>
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:${resource}]`;
    Validations.of(this.handler).acknowledge(
      {
        id: finding('thing/*'),
        reason:
          'iot:GetThingShadow: the dashboard shows the shadow of whichever device an operator opens (ids are checked against THING_NAME); the revocation of any device by an admin (list its principals, mark the thing).',
      },
      {
        id: finding('cert/*'),
        reason:
          'iot:UpdateCertificate, DetachPolicy and DetachThingPrincipal only: an admin revokes and detaches the certificates of whichever device must be refused.',
      },
      {
        id: finding(`topic/${commandTopics[0]}`),
        reason: 'iot:Publish only, on the VEN/gateway command topics: operators may command any VEN or gateway by id.',
      },
      {
        id: finding(`topic/${commandTopics[1]}`),
        reason: 'iot:Publish only, on the Winter River command topics: operators may command any node by id.',
      },
      {
        id: finding(`topic/${commandTopics[2]}`),
        reason: "iot:Publish only, on the edge nodes' control topics: operators may command any edge node by id.",
      },
    );
  }
}
