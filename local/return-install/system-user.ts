import { execFileSync } from "node:child_process";

export interface SystemUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** Looks a user up through NSS (`getent passwd`), so LDAP and other directory users work too. */
export function lookupUser(name: string): SystemUser {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(name)) throw new Error(`"${name}" is not a valid user name`);
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", name], { encoding: "utf8", timeout: 10_000 }).trim();
  } catch {
    throw new Error(`no such user "${name}" (getent passwd ${name} found nothing)`);
  }
  const fields = line.split(":");
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  const home = fields[5] ?? "";
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || !home.startsWith("/")) {
    throw new Error(`cannot read uid, gid and home of "${name}" from: ${line}`);
  }
  return { name, uid, gid, home };
}
