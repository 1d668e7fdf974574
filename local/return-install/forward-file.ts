/**
 * Editing a ~/.forward (aliases(5) format without the name): one destination per line.
 * Our line is recognised by the script's path, so installing twice never doubles it and
 * uninstalling removes only what we added.
 */
const MARKER = "email_return";

/**
 * The pipe line: `interpreter script --config file`, or without an interpreter for a script that
 * names its own in its first line (email_return.pl: #!/usr/bin/perl).
 */
export function forwardLine(interpreter: string | undefined, scriptPath: string, configPath: string): string {
  const paths = [...(interpreter === undefined ? [] : [interpreter]), scriptPath, configPath];
  for (const path of paths) {
    if (/["\s\\]/.test(path))
      throw new Error(
        `path ${JSON.stringify(path)} has a space, quote or backslash; a .forward pipe cannot quote it`,
      );
  }
  return `"|${paths.slice(0, -1).join(" ")} --config ${configPath}"`;
}

/** The .forward text with our pipe line in it; `keepCopyUser` adds `\user` first (local delivery as well). */
export function withReturnLine(existing: string, line: string, keepCopyUser?: string): string {
  const lines = existing
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l && !l.includes(MARKER));
  if (keepCopyUser && !lines.includes(`\\${keepCopyUser}`)) lines.unshift(`\\${keepCopyUser}`);
  lines.push(line);
  return `${lines.join("\n")}\n`;
}

/** The .forward text without our line; undefined when nothing of the user's own is left. */
export function withoutReturnLine(
  existing: string,
  user: string,
): { text: string | undefined; removed: boolean } {
  const lines = existing
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean);
  const kept = lines.filter((l) => !l.includes(MARKER));
  const removed = kept.length !== lines.length;
  // A lone "\user" only kept a local copy beside our pipe: without the pipe it means nothing.
  const meaningful = kept.filter((l) => l !== `\\${user}`);
  return { text: meaningful.length === 0 ? undefined : `${kept.join("\n")}\n`, removed };
}
