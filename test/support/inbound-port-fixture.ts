import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { MemoryStore } from "../../local/adapters/memory-store.ts";
import { Spool } from "../../local/adapters/spool.ts";
import { InboundPort } from "../../local/serve/inbound-port.ts";
import type { TestCert } from "./certs.ts";
import { RecordingLogger } from "./recording-logger.ts";

/**
 * serve's inbound listener as InboundPort opens it (the config's defaults), on 127.0.0.1 port 0,
 * with its certificate and key in files of a fresh folder, so a test can replace them on disk.
 */
export async function openListenerWithIdentityFiles(
  identity: TestCert,
  log: Logger = new RecordingLogger(),
): Promise<{ port: InboundPort; url: string; dir: string; certFile: string; keyFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), "scout-listener-identity-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  writeFileSync(certFile, identity.cert);
  writeFileSync(keyFile, identity.key);
  const inbound = {
    domain: "scout.example.net",
    returnAddress: "returns@scout.example.net",
    listen: { host: "127.0.0.1", port: 0 },
    tls: { certFile, keyFile },
    maxBytes: 1024 * 1024,
    sessionTimeoutSeconds: 120,
    maxConnectionsPerClient: 5,
    maxRejectedPerMinute: 10,
    rejectedRetentionDays: 7,
    rejectedMaxBytes: 100 * 1024 * 1024,
  };
  const spool = await Spool.open(join(dir, "spool"));
  const port = new InboundPort(inbound, spool, () => {}, log, systemClock, new MemoryStore());
  const url = `smtp://127.0.0.1:${await port.open()}`;
  return { port, url, dir, certFile, keyFile };
}
