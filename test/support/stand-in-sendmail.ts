import { chmodSync, writeFileSync } from "node:fs";

/**
 * A real executable at `path` standing in for the MTA's sendmail: it records its argv, one per
 * line, in $OUT_DIR/argv, then runs `rest` (shell: reads stdin, exits as the case wants).
 */
export function writeStandInSendmail(path: string, rest: string): void {
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "$OUT_DIR/argv"\n${rest}`);
  chmodSync(path, 0o755);
}
