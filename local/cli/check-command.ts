import { parseArgs } from "node:util";
import type { Credentials } from "../../core/checks/dialect.ts";
import { type Endpoint, parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { CheckConfigError } from "../../core/checks/errors.ts";
import type { Thresholds } from "../../core/checks/evaluate.ts";
import { DEFAULT_RELAY_TEST, type RelayTest, relayTestFrom } from "../../core/checks/open-relay.ts";
import { EXIT_CODES, REASONS } from "../../core/checks/reasons.ts";
import {
  type CheckOptions,
  checkEndpoint,
  DEFAULT_OVERALL_TIMEOUT_MS,
  type PhaseTimeouts,
} from "../../core/checks/run-check.ts";
import { parseLoginMechanism } from "../../core/checks/sasl/parse-mechanism.ts";
import { type CommandIo, nonEmptyPath, UsageError } from "./io.ts";
import { formatNagios } from "./nagios-format.ts";
import { PasswordSourceError, readPasswordEnv, readPasswordFile } from "./read-password.ts";

export const DEFAULT_PASSWORD_ENV = "EMAIL_SCOUT_PASSWORD";

export const CHECK_HELP = `Usage: email-scout check <endpoint-url> [options]

Checks one mail service like a Nagios plugin: prints one status line with perfdata and
exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Works as is in Nagios, Icinga and Naemon.

Endpoint URLs (port optional):
  smtp://host[:25]        SMTP, STARTTLS required      submission://host[:587]  same, port 587
  smtps://host[:465]      SMTP over implicit TLS
  imap://host[:143]       IMAP, STARTTLS required      imaps://host[:993]       IMAP over TLS
  pop3://host[:110]       POP3, STLS required          pop3s://host[:995]       POP3 over TLS
  URL options: ?starttls=required|optional|off  ?family=4|6|any  ?servername=NAME
  IPv6 literals in brackets: imaps://[2001:db8::25]:993

Thresholds:
  -w, --warning SECONDS       response time (connect through login) for WARNING
  -c, --critical SECONDS      response time for CRITICAL
      --cert-warning DAYS     certificate days left for WARNING (default 21)
      --cert-critical DAYS    certificate days left for CRITICAL (default 7)
      --expect-banner REGEX   WARNING unless the greeting matches this regular expression,
                              searched in every line of a multi-line greeting (^ and $
                              anchor at each line: '^220 ' matches Exim's '220-...' banner)
      --starttls POLICY       required (default on 25/587/143/110), optional, or off

TLS:
      --ca-file FILE          trust only the CAs in this PEM file (default: system CAs
                              and NODE_EXTRA_CA_CERTS)
      --servername NAME       name for SNI and the certificate check (default: the host)
      --no-verify             report an untrusted chain or a name mismatch, but do not
                              change the status for them (expiry still counts)

Login (optional; passwords never on the command line):
      --user NAME             log in as NAME with the strongest mechanism both sides speak:
                              SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, then the
                              IMAP LOGIN command or POP3 USER/PASS
      --auth-mech NAME        log in with NAME only: one of the above, IMAP-LOGIN or POP3-USER
      --password-file FILE    read the password from the first line of FILE
      --password-env VAR      read the password from environment variable VAR
                              (default when --user is given: ${DEFAULT_PASSWORD_ENV})

Open relay test (SMTP only; off by default; only test servers you run):
      --open-relay-test       before any login, ask MAIL FROM and RCPT TO between two outside
                              domains, then RSET (never DATA): CRITICAL open-relay if RCPT TO
                              is accepted, WARNING relay-test-inconclusive on 4xx or a
                              refused sender
      --relay-test-from ADDR  the outside sender (default ${DEFAULT_RELAY_TEST.sender})
      --relay-test-to ADDR    the outside recipient (default ${DEFAULT_RELAY_TEST.recipient})

Network and deadlines:
  -4, -6                      use IPv4 / IPv6 only
      --source-address ADDR   connect from this local address
      --helo NAME             name to announce in EHLO (default: this host's FQDN or [address])
  -t, --timeout SECONDS       overall deadline (default ${DEFAULT_OVERALL_TIMEOUT_MS / 1000})
      --timeout-connect S, --timeout-tls S, --timeout-greeting S, --timeout-reply S,
      --timeout-login S       deadline of one phase (defaults 10, 10, 15, 10, 20)

Output:
      --json                  print the full result as JSON (exit code unchanged)
      --reasons               list every reason code with its status and meaning
  -h, --help                  this text

Examples:
  email-scout check smtp://mail.example.com -w 2 -c 5
  email-scout check imaps://127.0.0.1 --ca-file /var/lib/email-scout-demo/ca.pem --user scout \\
      --password-file /var/lib/email-scout-demo/scout.password
  email-scout check submission://mail.example.com?starttls=required --cert-warning 30 --json
`;

const OPTIONS = {
  warning: { type: "string", short: "w" },
  critical: { type: "string", short: "c" },
  "cert-warning": { type: "string" },
  "cert-critical": { type: "string" },
  "expect-banner": { type: "string" },
  starttls: { type: "string" },
  "ca-file": { type: "string" },
  servername: { type: "string" },
  "no-verify": { type: "boolean" },
  user: { type: "string" },
  "password-file": { type: "string" },
  "password-env": { type: "string" },
  "auth-mech": { type: "string" },
  ipv4: { type: "boolean", short: "4" },
  ipv6: { type: "boolean", short: "6" },
  "source-address": { type: "string" },
  helo: { type: "string" },
  "open-relay-test": { type: "boolean" },
  "relay-test-from": { type: "string" },
  "relay-test-to": { type: "string" },
  timeout: { type: "string", short: "t" },
  "timeout-connect": { type: "string" },
  "timeout-tls": { type: "string" },
  "timeout-greeting": { type: "string" },
  "timeout-reply": { type: "string" },
  "timeout-login": { type: "string" },
  json: { type: "boolean" },
  reasons: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

/** `email-scout check`: returns the Nagios exit code. */
export async function checkCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    return unknown(io, "CHECK", `${(error as Error).message}; see email-scout check --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(CHECK_HELP);
    return 0;
  }
  if (values.reasons) {
    io.stdout(reasonTable());
    return 0;
  }
  try {
    if (positionals.length !== 1) {
      throw new UsageError(
        `give exactly one endpoint URL (got ${positionals.length}); see email-scout check --help`,
      );
    }
    const endpoint = endpointFrom(positionals[0] as string, values);
    const options = checkOptionsFrom(values, endpoint, io);
    const result = await checkEndpoint(endpoint, options);
    io.stdout(values.json ? JSON.stringify(result, null, 2) : formatNagios(result));
    return EXIT_CODES[result.status];
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof CheckConfigError ||
      error instanceof PasswordSourceError
    ) {
      const service = /^([a-z0-9]+):/.exec(positionals[0] ?? "")?.[1]?.toUpperCase() ?? "CHECK";
      if (values.json) {
        io.stdout(
          JSON.stringify({ status: "UNKNOWN", reason: "config-error", message: error.message }, null, 2),
        );
        return EXIT_CODES.UNKNOWN;
      }
      return unknown(io, service, error.message);
    }
    throw error;
  }
}

function unknown(io: CommandIo, service: string, message: string): number {
  io.stdout(`${service} UNKNOWN - config-error: ${message}`);
  return EXIT_CODES.UNKNOWN;
}

function endpointFrom(url: string, values: Values): Endpoint {
  const endpoint = parseEndpointUrl(url);
  if (values.ipv4 && values.ipv6) throw new UsageError("-4 and -6 exclude each other");
  const family = values.ipv4 ? 4 : values.ipv6 ? 6 : endpoint.family;
  const startTls = values.starttls ?? endpoint.startTls;
  if (startTls !== "required" && startTls !== "optional" && startTls !== "off") {
    throw new UsageError(`--starttls must be required, optional or off, not "${startTls}"`);
  }
  if (values.starttls && endpoint.tls === "implicit") {
    throw new UsageError(`--starttls does not apply to ${endpoint.kind}:// (implicit TLS)`);
  }
  return {
    ...endpoint,
    family,
    startTls,
    ...(values.servername ? { tlsServerName: values.servername } : {}),
  };
}

function checkOptionsFrom(values: Values, endpoint: Endpoint, io: CommandIo): CheckOptions {
  const thresholds: Partial<Thresholds> = {
    ...optional("warningMs", secondsOption(values, "warning")),
    ...optional("criticalMs", secondsOption(values, "critical")),
    ...optional("certWarningDays", daysOption(values, "cert-warning")),
    ...optional("certCriticalDays", daysOption(values, "cert-critical")),
    ...optional("expectBanner", bannerOption(values["expect-banner"])),
    ...(values["no-verify"] ? { verifyTls: false } : {}),
  };
  if (
    thresholds.warningMs !== undefined &&
    thresholds.criticalMs !== undefined &&
    thresholds.warningMs > thresholds.criticalMs
  ) {
    throw new UsageError("--warning must not exceed --critical");
  }
  const timeouts: Partial<PhaseTimeouts> = {
    ...optional("connect", secondsOption(values, "timeout-connect")),
    ...optional("tls", secondsOption(values, "timeout-tls")),
    ...optional("greeting", secondsOption(values, "timeout-greeting")),
    ...optional("reply", secondsOption(values, "timeout-reply")),
    ...optional("login", secondsOption(values, "timeout-login")),
  };
  return {
    thresholds,
    timeouts,
    ...optional("overallTimeoutMs", secondsOption(values, "timeout")),
    ...optional("credentials", credentialsFrom(values, endpoint, io)),
    ...optional("caFile", nonEmptyPath(values["ca-file"], "--ca-file")),
    ...optional("sourceAddress", values["source-address"]),
    ...optional("clientName", values.helo),
    ...optional("relayTest", relayTestOption(values, endpoint)),
  };
}

function relayTestOption(values: Values, endpoint: Endpoint): RelayTest | undefined {
  const sender = values["relay-test-from"];
  const recipient = values["relay-test-to"];
  if (!values["open-relay-test"]) {
    if (sender !== undefined || recipient !== undefined)
      throw new UsageError("--relay-test-from/--relay-test-to need --open-relay-test");
    return undefined;
  }
  if (endpoint.protocol !== "smtp")
    throw new UsageError(`--open-relay-test is for smtp, submission and smtps, not ${endpoint.kind}://`);
  return relayTestFrom({
    ...(sender === undefined ? {} : { sender }),
    ...(recipient === undefined ? {} : { recipient }),
  });
}

function credentialsFrom(values: Values, endpoint: Endpoint, io: CommandIo): Credentials | undefined {
  const user = values.user;
  if (!user) {
    if (values["password-file"] || values["password-env"])
      throw new UsageError("--password-file/--password-env need --user");
    if (values["auth-mech"]) throw new UsageError("--auth-mech needs --user");
    return undefined;
  }
  if (values["password-file"] && values["password-env"]) {
    throw new UsageError("give --password-file or --password-env, not both");
  }
  const mechanismName = values["auth-mech"];
  const mechanism =
    mechanismName === undefined ? undefined : parseLoginMechanism(mechanismName, endpoint.protocol);
  const password = values["password-file"]
    ? readPasswordFile(values["password-file"])
    : readPasswordEnv(values["password-env"] ?? DEFAULT_PASSWORD_ENV, io.env);
  return { user, password, ...(mechanism === undefined ? {} : { mechanism }) };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function secondsOption(values: Values, name: keyof Values): number | undefined {
  const text = values[name];
  if (text === undefined || typeof text !== "string") return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new UsageError(`--${name} takes seconds between 0 and 3600 (like 2 or 0.5), not "${text}"`);
  }
  return Math.round(seconds * 1000);
}

function daysOption(values: Values, name: keyof Values): number | undefined {
  const text = values[name];
  if (text === undefined || typeof text !== "string") return undefined;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 0 || days > 3650)
    throw new UsageError(`--${name} takes whole days (0-3650), not "${text}"`);
  return days;
}

function bannerOption(pattern: string | undefined): string | undefined {
  if (pattern === undefined) return undefined;
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new UsageError(`--expect-banner is not a valid regular expression: ${(error as Error).message}`);
  }
  return pattern;
}

function reasonTable(): string {
  const rows = Object.entries(REASONS).map(
    ([reason, { status, text }]) => `${reason.padEnd(24)} ${status.padEnd(9)} ${text}`,
  );
  return [`${"reason".padEnd(24)} ${"status".padEnd(9)} meaning`, ...rows].join("\n");
}
