import type { Secret } from "../basics/secret.ts";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import type { FetchConfig } from "../config/fetch-schema.ts";
import type { Clock } from "../ports/clock.ts";
import type { Logger } from "../ports/logger.ts";
import type { MailboxOpener, MailboxSession } from "../ports/mailbox.ts";
import { openImapSession } from "./imap-session.ts";
import type { MailboxLogin } from "./mailbox-login.ts";
import { OAuthTokenSource } from "./oauth-token-source.ts";
import { openPop3Session } from "./pop3-session.ts";

export interface MailboxOpenerDeps {
  /**
   * A secret by the reference the config gives (passwordFile, oauth.clientSecretFile): a file
   * in local mode, a Secrets Manager ARN on AWS.
   */
  readonly readSecret: (reference: string) => Promise<Secret>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Per protocol step; default 20 s. */
  readonly timeoutMs?: number;
}

/**
 * The one way both shells open probe mailboxes: IMAP (imapflow) or POP3 by the URL's scheme,
 * logged in with a password or an OAuth token. Token sources are kept per client, so a token
 * serves every cycle until shortly before it expires.
 */
export function createMailboxOpener(deps: MailboxOpenerDeps): MailboxOpener {
  const tokenSources = new Map<string, OAuthTokenSource>();
  const loginFor = async (fetch: FetchConfig): Promise<MailboxLogin> => {
    if (fetch.oauth === undefined) {
      return {
        kind: "password",
        user: fetch.user,
        password: await deps.readSecret(fetch.passwordFile ?? ""),
      };
    }
    const { tokenUrl, clientId, clientSecretFile, scope } = fetch.oauth;
    const key = JSON.stringify([tokenUrl, clientId, clientSecretFile, scope ?? null]);
    let source = tokenSources.get(key);
    if (source === undefined) {
      source = new OAuthTokenSource(
        {
          tokenUrl,
          clientId,
          clientSecret: () => deps.readSecret(clientSecretFile),
          ...(scope === undefined ? {} : { scope }),
        },
        { clock: deps.clock },
      );
      tokenSources.set(key, source);
    }
    const tokens = source;
    return { kind: "oauth", user: fetch.user, accessToken: () => tokens.accessToken() };
  };
  return {
    async open(targetId: string, fetch: FetchConfig): Promise<MailboxSession> {
      const endpoint = parseEndpointUrl(fetch.url);
      const login = await loginFor(fetch);
      const common = {
        targetId,
        endpoint,
        login,
        clock: deps.clock,
        log: deps.log,
        ...(fetch.caFile === undefined ? {} : { caFile: fetch.caFile }),
        ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
      };
      if (endpoint.protocol === "pop3") return openPop3Session(common);
      return openImapSession({
        ...common,
        ...(fetch.junkFolder === undefined ? {} : { junkFolder: fetch.junkFolder }),
      });
    },
  };
}
