import { SaslError, type SaslMechanism } from "./mechanism.ts";

/**
 * LOGIN (draft-murchison-sasl-login-00): the server asks twice ("Username:", "Password:",
 * texts clients must not rely on); the answers are the user name and the password.
 */
export const loginMechanism: SaslMechanism = {
  name: "LOGIN",
  start(credentials) {
    let challenges = 0;
    return {
      initialResponse: undefined,
      async respond() {
        challenges += 1;
        if (challenges === 1) return Buffer.from(credentials.user, "utf8");
        if (challenges === 2) return Buffer.from(credentials.password.reveal(), "utf8");
        throw new SaslError("protocol-error", "the server sent a third LOGIN challenge");
      },
      complete() {},
    };
  },
};
