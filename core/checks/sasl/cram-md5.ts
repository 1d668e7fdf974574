import { createHmac } from "node:crypto";
import { SaslError, type SaslMechanism } from "./mechanism.ts";

/**
 * CRAM-MD5 (RFC 2195): the server sends a unique challenge; the answer is the user name, a
 * space, and HMAC-MD5(password, challenge) in lower-case hex. The password stays home, but
 * the server proves nothing, and it must store the password (or its HMAC state) to check.
 */
export const cramMd5Mechanism: SaslMechanism = {
  name: "CRAM-MD5",
  start(credentials) {
    let answered = false;
    return {
      initialResponse: undefined,
      async respond(challenge) {
        if (answered) throw new SaslError("protocol-error", "the server sent a second CRAM-MD5 challenge");
        if (challenge.length === 0) throw new SaslError("protocol-error", "the CRAM-MD5 challenge is empty");
        answered = true;
        return Buffer.from(`${credentials.user} ${cramMd5Digest(credentials.password.reveal(), challenge)}`);
      },
      complete() {},
    };
  },
};

export function cramMd5Digest(password: string, challenge: Buffer): string {
  return createHmac("md5", Buffer.from(password, "utf8")).update(challenge).digest("hex");
}
