import { checkCommand } from "./check-command.ts";
import type { CommandIo } from "./io.ts";
import { keyCommand } from "./key-command.ts";
import { probeCommand } from "./probe-command.ts";
import { returnCommand } from "./return-command.ts";
import { serveCommand } from "./serve-command.ts";
import { statusCommand } from "./status-command.ts";
import { webhookCommand } from "./webhook-command.ts";

export const VERSION = "0.1.0";

export const MAIN_HELP = `Usage: email-scout <command> [options]

Email Scout watches mail servers: SMTP, IMAP and POP3 service checks with TLS facts,\nand signed round-trip probes that prove mail flows.

Commands:
  serve --config FILE    run local mode: scheduled checks and round-trip probes, SQLite, SMTP listener
  status --config FILE   the latest results and round-trip times
  check <endpoint-url>   check one SMTP/IMAP/POP3 endpoint, Nagios plugin output and exit code
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

/** Every command, looked up by name. */
const COMMANDS: Record<string, Command> = {
  check: checkCommand,
  key: keyCommand,
  return: returnCommand,
  probe: probeCommand,
  serve: serveCommand,
  status: statusCommand,
  webhook: webhookCommand,
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
    const command = rest[0] ? COMMANDS[rest[0]] : undefined;
    if (command) return command(["--help"], io);
    io.stdout(MAIN_HELP);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`email-scout: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}`);
    return 3;
  }
  return command(rest, io);
}
