/** Printed by the prober child on stdout between invocations, so the parent splits their log output. */
export const INVOCATION_MARK = '{"benchInvocationEnd":true}';
