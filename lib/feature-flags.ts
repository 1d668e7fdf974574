/**
 * CDK feature flags the stack is written for. Set on the App in code (not only in cdk.json), so
 * that the CLI's synth and the tests' synth build the same template.
 */
export const SCOUT_FEATURE_FLAGS: Record<string, boolean> = {
  // Server access logs are granted by a bucket policy instead of the LogDeliveryWrite ACL,
  // which would need ACLs enabled on the log bucket.
  "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
  "@aws-cdk/aws-iam:minimizePolicies": true,
  "@aws-cdk/core:checkSecretUsage": true,
};
