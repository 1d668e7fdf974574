import { SaslError, type SaslMechanism } from "./mechanism.ts";

/** PLAIN (RFC 4616): one message, authzid NUL authcid NUL passwd; the authzid is left empty. */
export const plainMechanism: SaslMechanism = {
  name: "PLAIN",
  start(credentials) {
    return {
      initialResponse: Buffer.from(`\0${credentials.user}\0${credentials.password.reveal()}`, "utf8"),
      async respond() {
        throw new SaslError("protocol-error", "the server sent a challenge after the PLAIN response");
      },
      complete() {},
    };
  },
};
