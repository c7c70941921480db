// Roles that AWS IoT assumes on the stack's behalf, without the confused deputy: a trust policy that names only the
// service lets IoT assume the role for any account's rule or setting that knows its ARN. The conditions below let IoT
// assume it only for this account (aws:SourceAccount) and, where the caller is a topic rule, only for this account's
// rules in this region (aws:SourceArn), as AWS recommends for IoT service roles.
import { Aws } from 'aws-cdk-lib';
import { ServicePrincipal, type IPrincipal } from 'aws-cdk-lib/aws-iam';

/** `arn:<partition>:iot:<region>:<account>:rule/*`: every topic rule of this account in this region. */
export const TOPIC_RULES_ARN = `arn:${Aws.PARTITION}:iot:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/*`;

/**
 * `iot.amazonaws.com`, for roles assumed by the account's topic rules (rule actions, error actions):
 * `assumedBy: iotRulesPrincipal()`.
 */
export function iotRulesPrincipal(): IPrincipal {
  return new ServicePrincipal('iot.amazonaws.com', {
    conditions: {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': TOPIC_RULES_ARN },
    },
  });
}

/**
 * `iot.amazonaws.com`, for roles assumed by account-level IoT features (logging, Device Defender audit and alerts),
 * whose source ARN is not a rule: this account only.
 */
export function iotAccountPrincipal(): IPrincipal {
  return new ServicePrincipal('iot.amazonaws.com', {
    conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
  });
}
