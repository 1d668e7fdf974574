import { expiredSpec } from "../certificates.ts";
import { DEMO } from "../mail-host.ts";
import { certificateFault } from "./certificate.ts";

export const certExpired = certificateFault({
  id: "cert-expired",
  title: "certificate replaced by an expired one",
  reason: "cert-expired",
  spec: () => expiredSpec(DEMO.hostname),
});
