/** The version webhook receivers see in the user-agent; kept equal to the CLI's VERSION by a test. */
export const SCOUT_VERSION = "0.1.0";
export const WEBHOOK_USER_AGENT = `email-scout/${SCOUT_VERSION}`;
