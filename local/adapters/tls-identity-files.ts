import { readFileSync } from "node:fs";
import { createSecureContext, type Server as TlsServer } from "node:tls";
import { FileBackedValue } from "../../core/basics/file-backed-value.ts";
import type { Logger } from "../../core/ports/logger.ts";

/** A server's certificate (chain) and private key, PEM. */
export interface TlsIdentity {
  readonly cert: string;
  readonly key: string;
}

/**
 * A server's certificate and key files, followed on disk: a renewed certificate (certbot, a
 * private CA's tooling) is served without a restart. `current()` reads them at start and fails
 * with the file's name; `renewed()` is cheap enough to ask on every new connection (a stat of
 * each file per second at most) and answers with the new identity once, when it changed.
 * A new pair that does not load (a certificate replaced before its key, unreadable, not PEM) is
 * logged and skipped: the server keeps serving the old one until the pair fits.
 *
 * The inbound listener asks it on each connection (smtp-server's updateSecureContext); a
 * tls.Server or https.Server (the dashboard, once it serves TLS) uses followIdentityFiles.
 */
export class TlsIdentityFiles {
  readonly #files: FileBackedValue<TlsIdentity>;
  #servedRevision = 0;
  #lastWarning: string | undefined;

  constructor(
    readonly certFile: string,
    readonly keyFile: string,
    private readonly log: Logger,
  ) {
    this.#files = new FileBackedValue([certFile, keyFile], () => loadIdentity(certFile, keyFile));
  }

  /** The identity as it is on disk now; throws an Error naming the file that does not load. */
  current(): TlsIdentity {
    const identity = this.#files.current();
    this.#servedRevision = this.#files.revision;
    return identity;
  }

  /** The identity when it changed on disk since it was last handed out; undefined otherwise. */
  renewed(): TlsIdentity | undefined {
    let identity: TlsIdentity;
    try {
      identity = this.#files.current();
    } catch (error) {
      const warning = (error as Error).message;
      if (warning !== this.#lastWarning)
        this.log.warn("TLS certificate not reloaded, the previous one is still served", { error: warning });
      this.#lastWarning = warning;
      return undefined;
    }
    this.#lastWarning = undefined;
    if (this.#files.revision === this.#servedRevision) return undefined;
    this.#servedRevision = this.#files.revision;
    this.log.info("TLS certificate reloaded", { certFile: this.certFile });
    return identity;
  }
}

function loadIdentity(certFile: string, keyFile: string): TlsIdentity {
  const identity = { cert: readPem(certFile), key: readPem(keyFile) };
  try {
    // Loads the pair as the server will: a certificate that does not fit its key fails here.
    createSecureContext(identity);
  } catch (error) {
    throw new Error(`${certFile} and ${keyFile} do not load as a pair: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return identity;
}

function readPem(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      cause: error,
    });
  }
}

/**
 * Serves the files' renewed identity from a tls.Server's (or https.Server's) next connection
 * on. Prepended: the server makes each connection's TLS socket in its own 'connection'
 * listener, with the context current at that moment.
 */
export function followIdentityFiles(server: TlsServer, files: TlsIdentityFiles): void {
  server.prependListener("connection", () => {
    const identity = files.renewed();
    if (identity !== undefined) server.setSecureContext(identity);
  });
}
