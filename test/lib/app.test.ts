import { Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { createVppApp, stackPropsFromContext } from '../../lib/vpp-app.js';
import { appContext, fakeDashboardBuild, synthVpp } from './synth.js';

describe('the CDK app', () => {
  it('given no flags, deploys stack Vpp with the time series on DynamoDB, 30 days of retention and INFO logs', () => {
    const { app, stack } = createVppApp({ context: appContext({ siteDir: fakeDashboardBuild() }) });
    expect(stack.stackName).toBe('Vpp');
    expect(stackPropsFromContext(app.node)).toMatchObject({
      timeseries: 'dynamodb',
      retentionDays: 30,
      logLevel: 'INFO',
    });
  });

  it.each([
    [{ timeseries: 'influx' }, /timeseries=influx is invalid: expected dynamodb or timestream/],
    [{ retentionDays: '0' }, /retentionDays=0 is invalid/],
    [{ archiveRetentionDays: '1.5' }, /archiveRetentionDays=1.5 is invalid: expected a whole number of days/],
    [{ fleetSize: '10k' }, /fleetSize=10k is invalid: expected a whole number of VENs/],
    [{ logLevel: 'chatty' }, /logLevel=chatty is invalid/],
    [{ corsOrigins: 'localhost:5173' }, /corsOrigins=localhost:5173 is invalid/],
    [
      { portfolioTimeZone: 'Mars/Olympus_Mons' },
      /portfolioTimeZone=Mars\/Olympus_Mons is invalid: expected an IANA time zone/,
    ],
  ])('given the bad flag %o, refuses to synthesize and names it', (context, message) => {
    expect(() => synthVpp(context)).toThrow(message);
  });

  it('given a resource with an unacknowledged cdk-nag finding, fails the synth', () => {
    const { stack } = createVppApp({ context: appContext({ siteDir: fakeDashboardBuild() }) });
    new Bucket(stack, 'Careless');
    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions[\s\S]*Vpp\/Careless/);
  });
});
