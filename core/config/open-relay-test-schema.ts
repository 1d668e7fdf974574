import { z } from "zod";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import { address } from "./fields.ts";

/**
 * SMTP endpoints only: the open relay test (core/checks/open-relay.ts), `true` for its default
 * outside addresses (`false`: off) or the two addresses to use. Off unless given: only test servers you run.
 */
export const openRelayTestSchema = z.union([
  z.boolean(),
  z.strictObject({ sender: address.optional(), recipient: address.optional() }),
]);

interface EndpointLike {
  readonly url: string;
  readonly openRelayTest?: z.infer<typeof openRelayTestSchema>;
}

/** The open relay test speaks SMTP: on an IMAP or POP3 endpoint it is a mistake, not a no-op. */
export function openRelayTestChecks(
  config: { readonly targets: readonly { readonly endpoints: readonly EndpointLike[] }[] },
  context: z.RefinementCtx,
): void {
  config.targets.forEach((target, t) => {
    target.endpoints.forEach((endpoint, e) => {
      if (endpoint.openRelayTest === undefined) return;
      let kind: string;
      try {
        const parsed = parseEndpointUrl(endpoint.url);
        if (parsed.protocol === "smtp") return;
        kind = parsed.kind;
      } catch {
        return; // the url's own error is reported on the url
      }
      context.addIssue({
        code: "custom",
        path: ["targets", t, "endpoints", e, "openRelayTest"],
        message: `the open relay test is for smtp, submission and smtps endpoints, not ${kind}://`,
      });
    });
  });
}
