/**
 * The status every result ends in, as Nagios names them: a check's, a round trip's, a
 * subject's tracked status. The domain type every part of Email Scout shares.
 */
export const STATUSES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
export type Status = (typeof STATUSES)[number];
