import { processIo } from "../local/cli/io.ts";
import { main } from "../local/cli/main.ts";

try {
  process.exitCode = await main(process.argv.slice(2), processIo);
} catch (error) {
  // A bug, not a finding: UNKNOWN with the stack, as Nagios expects of a failed plugin.
  process.stdout.write(`EMAIL-SCOUT UNKNOWN - internal-error: ${(error as Error)?.stack ?? error}\n`);
  process.exitCode = 3;
}
