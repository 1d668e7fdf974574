import { chownSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INSTALL_DIR } from "../../local/return-install/return-install.ts";
import { lookupUser } from "../../local/return-install/system-user.ts";
import { PROBE_USER } from "./harness.ts";

/** Where the harness's probe mailbox keeps its ~/.forward, email_return and mail. */
export function probeMailbox() {
  const user = lookupUser(PROBE_USER);
  const installDir = join(user.home, INSTALL_DIR);
  return {
    user,
    forward: join(user.home, ".forward"),
    installDir,
    returnConfig: join(installDir, "return.json"),
    maildirNew: join(user.home, "Maildir/new"),
  };
}

/** Replaces ~/.forward (owned by the user, 0644: Postfix ignores one that others can write). */
export function writeForward(text: string): void {
  const { forward, user } = probeMailbox();
  writeFileSync(forward, text, { mode: 0o644 });
  chownSync(forward, user.uid, user.gid);
}

/** Messages in the mailbox that mention any of these probe ids. */
export function deliveredProbes(probeIds: readonly string[]): string[] {
  const { maildirNew } = probeMailbox();
  const found = new Set<string>();
  for (const name of readdirSync(maildirNew)) {
    const text = readFileSync(join(maildirNew, name), "utf8");
    for (const id of probeIds) if (text.includes(id)) found.add(id);
  }
  return [...found];
}

/** Empties Maildir/new (probes that a fault left there). */
export function emptyMailbox(): void {
  const { maildirNew } = probeMailbox();
  for (const name of readdirSync(maildirNew)) rmSync(join(maildirNew, name), { force: true });
}
