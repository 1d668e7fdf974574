import type { CommandIo } from "./io.ts";

export const VERSION = "0.1.0";

export const MAIN_HELP = `Usage: email-scout <command> [options]

Email Scout watches mail servers: SMTP, IMAP and POP3 service checks with TLS facts,\nand signed round-trip probes that prove mail flows.

Commands:
  serve --config FILE    run local mode: scheduled checks and round-trip probes, SQLite, SMTP listener
  status --config FILE   the latest results and round-trip times
  check <endpoint-url>   check one SMTP/IMAP/POP3 endpoint, Nagios plugin output and exit code
  posture <domain>       check a mail domain's MX, SPF and DMARC records, as a Nagios plugin
  probe --to ADDR ...    one round trip as a Nagios plugin (no monitor needed)
  key new|add|retire|list FILE
                         probe key rings: make one, rotate (add, retire), list its key ids
  webhook test|list|redrive
                         send a signed test event to a URL; list or redrive the local webhook outbox
  return install|uninstall
                         install email_return for a mailbox on this mail server (~/.forward)
  help [command]         show help for a command
  version                print the version

Run "email-scout <command> --help" for a command's options.
`;

type Command = (args: string[], io: CommandIo) => Promise<number>;

/**
 * Every command, looked up by name, each loaded only when it runs: `check` started by Nagios
 * once per check must not pay for SQLite, mail parsing and the dashboard (see scripts/build.mjs).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import("./check-command.ts")).checkCommand,
  key: async () => (await import("./key-command.ts")).keyCommand,
  return: async () => (await import("./return-command.ts")).returnCommand,
  posture: async () => (await import("./posture-command.ts")).postureCommand,
  probe: async () => (await import("./probe-command.ts")).probeCommand,
  serve: async () => (await import("./serve-command.ts")).serveCommand,
  status: async () => (await import("./status-command.ts")).statusCommand,
  webhook: async () => (await import("./webhook-command.ts")).webhookCommand,
};

/** Runs the CLI and returns its exit code. Usage errors exit 3 (UNKNOWN), as Nagios expects of plugins. */
export async function main(args: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "-h" || name === "--help") {
    io.stdout(MAIN_HELP);
    return name === undefined ? 3 : 0;
  }
  if (name === "version" || name === "--version") {
    io.stdout(VERSION);
    return 0;
  }
  if (name === "help") {
    const load = rest[0] ? COMMANDS[rest[0]] : undefined;
    if (load) return (await load())(["--help"], io);
    io.stdout(MAIN_HELP);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`email-scout: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}`);
    return 3;
  }
  return (await load())(rest, io);
}
