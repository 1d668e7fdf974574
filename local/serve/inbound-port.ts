import { describeError } from "../../core/basics/describe-error.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import type { Clock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { ProbeStore } from "../../core/ports/probe-store.ts";
import { startInboundListener } from "../adapters/inbound-listener.ts";
import { RejectionRate } from "../adapters/listener-guard.ts";
import type { Spool } from "../adapters/spool.ts";
import { TlsIdentityFiles } from "../adapters/tls-identity-files.ts";

/**
 * The monitor's inbound SMTP listener and its lifetime: open, paused (maintenance, fault
 * drills: delivering MTAs get "connection refused" and keep the returns queued), resumed on
 * the same port, closed for good.
 */
export class InboundPort {
  private listener: { port: number; close(): Promise<void> } | undefined;
  private pausedPort: number | undefined;
  private closed = false;
  /**
   * Rejected mail per client, by the listener (550, 552) and by the intake (spooled, then
   * rejected: note it here); kept across pause and resume.
   */
  readonly rejections: RejectionRate;
  /** The certificate and key, followed on disk: a renewed certificate needs no restart. */
  private readonly tlsFiles: TlsIdentityFiles | undefined;

  constructor(
    private readonly inbound: ScoutConfig["inbound"],
    private readonly spool: Spool,
    private readonly onSpooled: () => void,
    private readonly log: Logger,
    /** The monitor's clock: a return's arrival ends its round trip, so it is read on the clock that started it. */
    private readonly clock: Clock,
    /** Where the listener's refusals are counted by reason, beside the intake's rejections. */
    private readonly counts: Pick<ProbeStore, "countRejection">,
  ) {
    this.rejections = new RejectionRate(inbound.maxRejectedPerMinute, clock);
    this.tlsFiles = inbound.tls
      ? new TlsIdentityFiles(inbound.tls.certFile, inbound.tls.keyFile, log)
      : undefined;
  }

  /** Listens on the configured port (0: any free one); resolves with the port bound. */
  open(): Promise<number> {
    return this.listen(this.inbound.listen.port);
  }

  async pause(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.pausedPort = listener.port;
    this.listener = undefined;
    await listener.close();
    this.log.warn("inbound listener paused", { port: listener.port });
  }

  /** Listens again on the port it had. */
  async resume(): Promise<void> {
    if (this.listener || this.pausedPort === undefined || this.closed) return;
    await this.listen(this.pausedPort);
    this.pausedPort = undefined;
    // close() may have run while the listener was opening: it closed nothing, so close this one.
    if (this.isClosed()) await this.closeListener();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.closeListener();
  }

  private async listen(port: number): Promise<number> {
    const inbound = this.inbound;
    const listener = await startInboundListener({
      host: inbound.listen.host,
      port,
      returnAddress: inbound.returnAddress,
      inboundDomain: inbound.domain,
      spool: this.spool,
      maxBytes: inbound.maxBytes,
      ...(this.tlsFiles ? { tls: this.tlsFiles.current(), renewedTls: () => this.tlsFiles?.renewed() } : {}),
      onSpooled: this.onSpooled,
      log: this.log,
      clock: this.clock,
      sessionTimeoutMs: inbound.sessionTimeoutSeconds * 1000,
      maxConnectionsPerClient: inbound.maxConnectionsPerClient,
      rejections: this.rejections,
      onRefusal: (reason, remoteAddress, detail) => {
        this.counts
          .countRejection(reason, `${remoteAddress}: ${detail}`, this.clock.now())
          .catch((error: unknown) =>
            this.log.error("cannot count a refusal", { reason, error: describeError(error) }),
          );
      },
    });
    this.listener = listener;
    this.log.info("inbound listener ready", {
      address: `${inbound.listen.host}:${listener.port}`,
      returns: inbound.returnAddress,
    });
    return listener.port;
  }

  private async closeListener(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
  }

  /** A method, so the compiler does not assume `closed` unchanged across an await. */
  private isClosed(): boolean {
    return this.closed;
  }
}
