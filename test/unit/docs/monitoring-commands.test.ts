import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CHECK_HELP } from "../../../local/cli/check-command.ts";
import { PROBE_HELP } from "../../../local/cli/probe-command.ts";

/*
 * The Icinga 2 and Nagios command definitions in docs/ name only options that `email-scout
 * check` and `probe` have: an option renamed in the CLI must be renamed there too.
 */

const repo = resolve(import.meta.dirname, "../../..");
const icinga = readFileSync(resolve(repo, "docs/icinga/email-scout.conf"), "utf8");
const nagios = readFileSync(resolve(repo, "docs/nagios/email-scout.cfg"), "utf8");

/** The options given to one command in an Icinga CheckCommand block. */
function icingaOptions(command: string): string[] {
  const block = icinga.split(/^object CheckCommand /m).find((b) => b.startsWith(`"${command}"`));
  if (block === undefined) throw new Error(`no CheckCommand ${command}`);
  return [...block.matchAll(/^\s*"(-{1,2}[a-z0-9-]+)" = /gm)].map((m) => m[1] as string);
}

function knownBy(help: string, option: string): boolean {
  return new RegExp(`(^|[\\s,/])${option.replace(/-/g, "\\-")}(?=[\\s,]|$)`, "m").test(help);
}

describe("monitoring-system command definitions", () => {
  it.each([
    ["email_scout_check", CHECK_HELP, "check"],
    ["email_scout_probe", PROBE_HELP, "probe"],
    ["email_scout_probe_fetch", PROBE_HELP, "probe"],
  ])("Icinga's %s uses only options of email-scout %s", (command, help, verb) => {
    const options = icingaOptions(command);
    expect(options.length).toBeGreaterThan(5);
    expect(options.filter((o) => !knownBy(help, o))).toEqual([]);
    expect(icinga).toContain(`command = [ "/usr/local/bin/email-scout", "${verb}" ]`);
  });

  it("Nagios' commands use only options of check and probe", () => {
    const lines = [...nagios.matchAll(/^\s*command_line\s+\S+ (check|probe) (.*)$/gm)];
    expect(lines.map((m) => m[1])).toEqual(["check", "probe", "probe"]);
    for (const [, verb, rest] of lines) {
      const help = verb === "check" ? CHECK_HELP : PROBE_HELP;
      const options = (rest as string).match(/--?[a-z][a-z0-9-]*/g) ?? [];
      expect(options.filter((o) => !knownBy(help, o))).toEqual([]);
    }
    // The examples' extra options, too.
    for (const [, extra] of nagios.matchAll(
      /^#\s+e\.g\. check_email_scout(?:_probe(?:_fetch)?)?!.*!(-.*)$/gm,
    )) {
      const options = (extra as string).match(/(?<=^|\s)--?[a-z][a-z0-9-]*/g) ?? [];
      expect(options.filter((o) => !knownBy(CHECK_HELP, o) && !knownBy(PROBE_HELP, o))).toEqual([]);
    }
  });
});
