import { createPrivateKey, type KeyObject } from "node:crypto";
import { Secret } from "../../core/basics/secret.ts";
import { readSecretFile } from "../../core/wire/secret-file.ts";

/** What the SMTP sender signs probes with (RFC 6376): nodemailer's DKIM option, the key kept secret. */
export interface DkimSigning {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: Secret;
}

/** RFC 8301 §3.2: signers MUST use at least 1024 bits, SHOULD use 2048. */
const MIN_RSA_BITS = 1024;

/** outbound.dkim.privateKeyFile holds no private key nodemailer can sign with. */
export class DkimKeyError extends Error {
  override readonly name = "DkimKeyError";
}

/**
 * Reads `outbound.dkim` for the sender: the key file by the secret-file rules (refused when its
 * group or others may read it), and parsed now, so a wrong file stops start-up with its name
 * rather than failing every probe. Only RSA keys of 1024 bits or more (RFC 8301 §3.2) are
 * accepted: nodemailer signs rsa-sha256 alone, and with any other key it would send the probe
 * unsigned without a word.
 */
export function readDkimSigning(dkim: {
  readonly domain: string;
  readonly selector: string;
  readonly privateKeyFile: string;
}): DkimSigning {
  const what = "outbound.dkim.privateKeyFile: secret file";
  const pem = readSecretFile(dkim.privateKeyFile, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new DkimKeyError(`${what} ${dkim.privateKeyFile} holds no PEM private key`, { cause });
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new DkimKeyError(
      `${what} ${dkim.privateKeyFile} holds a ${key.asymmetricKeyType} key; probes are signed with RSA (rsa-sha256)`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new DkimKeyError(
      `${what} ${dkim.privateKeyFile} holds a ${bits}-bit RSA key; use ${MIN_RSA_BITS} bits or more (2048 recommended)`,
    );
  }
  return { domainName: dkim.domain, keySelector: dkim.selector, privateKey: new Secret(pem) };
}
