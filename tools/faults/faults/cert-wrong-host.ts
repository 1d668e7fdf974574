import { wrongHostSpec } from "../certificates.ts";
import { certificateFault } from "./certificate.ts";

export const certWrongHost = certificateFault({
  id: "cert-wrong-host",
  title: "certificate replaced by one for another host",
  reason: "cert-hostname-mismatch",
  spec: () => wrongHostSpec(),
});
