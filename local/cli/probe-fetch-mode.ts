import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { openImapSession } from "../../core/mailbox/imap-session.ts";
import { openPop3Session } from "../../core/mailbox/pop3-session.ts";
import { systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { MailboxSession } from "../../core/ports/mailbox.ts";
import { type CommandIo, UsageError } from "./io.ts";
import { readPasswordEnv, readPasswordFile } from "./read-password.ts";

/** The probe command's options that choose and reach the probe mailbox (fetch mode). */
export interface FetchModeValues {
  readonly imap?: string | undefined;
  readonly pop3?: string | undefined;
  readonly user?: string | undefined;
  readonly "password-file"?: string | undefined;
  readonly "password-env"?: string | undefined;
  readonly "junk-folder"?: string | undefined;
  readonly "ca-file"?: string | undefined;
}

/**
 * How `email-scout probe --imap/--pop3` opens the probe mailbox: the URL, login and CA checked
 * and the password read now, before a probe is sent, so a mistake is UNKNOWN and not "lost".
 * The same sessions serve uses (imapflow with IDLE, the POP3 client).
 */
export function mailboxFromOptions(
  values: FetchModeValues,
  io: CommandIo,
  log: Logger,
): () => Promise<MailboxSession> {
  if (values.imap !== undefined && values.pop3 !== undefined)
    throw new UsageError("give --imap or --pop3, not both");
  const flag = values.imap !== undefined ? "--imap" : "--pop3";
  const url = (values.imap ?? values.pop3) as string;
  let endpoint: ReturnType<typeof parseEndpointUrl>;
  try {
    endpoint = parseEndpointUrl(url);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
  const wanted = flag === "--imap" ? "imap" : "pop3";
  if (endpoint.protocol !== wanted)
    throw new UsageError(`${flag} takes a ${wanted}:// or ${wanted}s:// URL, not "${url}"`);
  const user = values.user;
  if (!user) throw new UsageError(`${flag} needs --user (the probe mailbox's login)`);
  if ([...user].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new UsageError("--user must not contain control characters");
  const passwordFile = values["password-file"];
  const passwordEnv = values["password-env"];
  if ((passwordFile === undefined) === (passwordEnv === undefined))
    throw new UsageError(`${flag} needs exactly one of --password-file and --password-env`);
  const junkFolder = values["junk-folder"];
  if (junkFolder !== undefined && wanted === "pop3")
    throw new UsageError("--junk-folder applies to --imap only: POP3 sees the inbox alone");
  const password =
    passwordFile !== undefined
      ? readPasswordFile(passwordFile)
      : readPasswordEnv(passwordEnv as string, io.env);
  const common = {
    targetId: "probe",
    endpoint,
    login: { kind: "password" as const, user, password },
    clock: systemClock,
    log,
    ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}),
  };
  return () =>
    wanted === "pop3"
      ? openPop3Session(common)
      : openImapSession({ ...common, ...(junkFolder === undefined ? {} : { junkFolder }) });
}

/** The options only the listener's round trip takes; in fetch mode they are a mistake, said so. */
export function refuseListenerOptions(values: {
  "return-address"?: string | undefined;
  listen?: string | undefined;
}) {
  for (const name of ["return-address", "listen"] as const) {
    if (values[name] !== undefined)
      throw new UsageError(
        `--${name} applies to the return mode only; --imap/--pop3 find the probe in the mailbox`,
      );
  }
}
