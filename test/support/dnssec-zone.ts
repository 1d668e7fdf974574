import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type NsdZone, zoneFile } from "./nsd-server.ts";

/**
 * A zone signed with Debian's ldnsutils (ldns-keygen, ldns-signzone): a KSK and a ZSK
 * (ECDSA P-256, algorithm 13), NSEC, signatures valid from now for ldns-signzone's default
 * four weeks. The KSK's DS record is the trust anchor a validating resolver is given.
 */
export const LDNS_KEYGEN = "/usr/bin/ldns-keygen";
export const LDNS_SIGNZONE = "/usr/bin/ldns-signzone";

const run = promisify(execFile);

export interface SignedZone {
  readonly origin: string;
  /** The signed zone file, ready for NSD (NsdZone.text). */
  readonly text: string;
  /** A file holding the KSK's DS record: unbound's trust-anchor-file. */
  readonly dsFile: string;
}

/** Signs `zone` in `dir` (keys and files stay there). */
export async function signZone(dir: string, zone: NsdZone): Promise<SignedZone> {
  const keygen = async (ksk: boolean): Promise<string> => {
    const { stdout } = await run(
      LDNS_KEYGEN,
      ["-a", "ECDSAP256SHA256", ...(ksk ? ["-k"] : []), zone.origin],
      {
        cwd: dir,
        timeout: 30_000,
      },
    );
    return stdout.trim();
  };
  const ksk = await keygen(true);
  const zsk = await keygen(false);
  const unsigned = join(dir, `${zone.origin}.unsigned`);
  const signed = join(dir, `${zone.origin}.signed`);
  await writeFile(unsigned, zoneFile(zone));
  await run(LDNS_SIGNZONE, ["-o", zone.origin, "-f", signed, unsigned, join(dir, zsk), join(dir, ksk)], {
    cwd: dir,
    timeout: 30_000,
  });
  return { origin: zone.origin, text: await readFile(signed, "utf8"), dsFile: join(dir, `${ksk}.ds`) };
}
