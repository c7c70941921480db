import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { VppStack } from '../../lib/vpp-stack.js';
import { resourcesOf, synthVpp } from './synth.js';

/** The files a BucketDeployment publishes, read back from the staged assets of the synthesized app. */
function publishedFiles(stack: VppStack, template: Template): Record<string, string> {
  const outdir = Stage.of(stack)!.outdir;
  const [deployment] = Object.values(resourcesOf(template, 'Custom::CDKBucketDeployment'));
  const keys = deployment!.Properties.SourceObjectKeys as string[];
  const files: Record<string, string> = {};
  for (const key of keys) {
    const dir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    for (const name of readdirSync(dir)) files[name] = readFileSync(join(dir, name), 'utf8');
  }
  return files;
}

describe('given the stack, when synthesized, then the dashboard hosting', () => {
  let stack: VppStack;
  let template: Template;
  beforeAll(() => ({ stack, template } = synthVpp()));

  it('serves a private bucket through CloudFront with origin access control', () => {
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always' }),
    });
    const [oacId] = Object.keys(resourcesOf(template, 'AWS::CloudFront::OriginAccessControl'));
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Origins: [Match.objectLike({ OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] } })],
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Logging: Match.objectLike({ Bucket: Match.anyValue() }),
      }),
    });
  });

  it('answers with a content security policy that allows no inline script and only its own API, IoT and Cognito', () => {
    const [policyId] = Object.keys(resourcesOf(template, 'AWS::CloudFront::ResponseHeadersPolicy'));
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ResponseHeadersPolicyId: { Ref: policyId } }),
      }),
    });
    const headers = resourcesOf(template, 'AWS::CloudFront::ResponseHeadersPolicy')[policyId!]!.Properties
      .ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(stack.resolve(headers.ContentSecurityPolicy.ContentSecurityPolicy));
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/wss:\/\/\*\.iot\./);
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
  });

  it('blocks public access, requires TLS and logs access on the site bucket', () => {
    const site = stack.resolve(stack.dashboard.bucket.bucketName);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: stack.resolve(stack.dashboard.logBucket.bucketName),
        LogFilePrefix: 's3/',
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: site,
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
          }),
        ]),
      },
    });
  });

  it('publishes config.json with the API, IoT, authorizer and Cognito settings, resolved at deploy', () => {
    const config = JSON.parse(publishedFiles(stack, template)['config.json']!) as Record<string, string>;
    expect(Object.keys(config).sort()).toEqual([
      'apiUrl',
      'authDomain',
      'iotAuthorizerName',
      'iotEndpoint',
      'mode',
      'region',
      'userPoolClientId',
      'userPoolId',
    ]);
    expect(config.mode).toBe('aws');
    // Each deploy-time value is a marker in the file that the deployment replaces with the value of its token.
    const [deployment] = Object.values(resourcesOf(template, 'Custom::CDKBucketDeployment'));
    const markers = Object.assign({}, ...(deployment!.Properties.SourceMarkers as Record<string, unknown>[]));
    expect(markers[config.apiUrl!]).toEqual(stack.resolve(stack.api.url));
    expect(markers[config.iotEndpoint!]).toEqual(stack.resolve(stack.fleet.dataEndpoint));
    expect(markers[config.userPoolId!]).toEqual(stack.resolve(stack.api.userPool.userPoolId));
    expect(markers[config.userPoolClientId!]).toEqual(stack.resolve(stack.api.userPoolClient.userPoolClientId));
    expect(markers[config.region!]).toEqual({ Ref: 'AWS::Region' });
    const [authorizerId] = Object.keys(resourcesOf(template, 'AWS::IoT::Authorizer'));
    expect(markers[config.iotAuthorizerName!]).toEqual({ Ref: authorizerId });
    const [domainId] = Object.keys(resourcesOf(template, 'AWS::Cognito::UserPoolDomain'));
    const authDomain = /^https:\/\/(<<marker:[^>]+>>)\.auth\.(<<marker:[^>]+>>)\.amazoncognito\.com$/.exec(
      config.authDomain!,
    );
    expect(authDomain, config.authDomain).not.toBeNull();
    expect(markers[authDomain![1]!]).toEqual({ Ref: domainId });
    expect(markers[authDomain![2]!]).toEqual({ Ref: 'AWS::Region' });
  });
});

describe('given a built dashboard or none, when synthesized', () => {
  const synthWithSite = (siteDir: string) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new VppStack(app, 'Site', { timeseries: 'dynamodb', retentionDays: 30, siteDir });
    return { stack, template: Template.fromStack(stack) };
  };

  it('then the build is published as it is', () => {
    const dist = mkdtempSync(join(tmpdir(), 'dist-'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>built</title>');
    const { stack, template } = synthWithSite(dist);
    expect(publishedFiles(stack, template)['index.html']).toContain('<title>built</title>');
  });

  it('then, without a build, synth fails and says how to build it: nothing is ever deployed in its place', () => {
    const hint = /index\.html is missing.*build the dashboard: npm run web:build/;
    expect(() => synthWithSite(join(tmpdir(), 'no-such-dist'))).toThrow(hint);
    expect(() => synthWithSite(mkdtempSync(join(tmpdir(), 'empty-dist-')))).toThrow(hint);
    expect(() => synthVpp({ siteDir: join(tmpdir(), 'no-such-dist') })).toThrow(hint);
  });
});
