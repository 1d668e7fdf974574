import { FileBackedValue } from "../../core/basics/file-backed-value.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { TargetKeyRings } from "../../core/roundtrip/target-key-rings.ts";
import type { ProbeKeyRing } from "../../core/wire/probe-key.ts";
import { readProbeKeyFile } from "../../core/wire/probe-key-file.ts";

/**
 * The probe key rings of local mode, followed on disk: each probe target's own keyFile, else the
 * global probeKeyFile. A rotation (`email-scout key add` / `key retire`, which replace the file)
 * is seen within a second, with no restart. `open` reads every file and throws with the failing
 * file's name, so a bad key stops start-up. A file that later stops loading (a half-pasted edit)
 * is logged, and its last good ring is kept until it loads again: probes go on, and returns
 * signed with a key the operator has not removed yet are not lost.
 */
export class ProbeKeyFiles {
  readonly #files = new Map<string, FileBackedValue<ProbeKeyRing>>();
  readonly #lastGood = new Map<string, ProbeKeyRing>();
  readonly #warned = new Map<string, string>();

  private constructor(
    private readonly fileOfTarget: ReadonlyMap<string, string>,
    private readonly log: Logger,
    clock: Clock,
  ) {
    // The monitor's clock paces the looks at the files (a stat per file per second at most).
    const now = () => clock.now();
    for (const path of new Set(fileOfTarget.values())) {
      this.#files.set(path, new FileBackedValue([path], () => readProbeKeyFile(path), { now }));
    }
  }

  /** Reads every key file the config names; throws the first one's error. */
  static open(
    config: Pick<ScoutConfig, "probeKeyFile" | "targets">,
    log: Logger,
    clock: Clock = systemClock,
  ): ProbeKeyFiles {
    const fileOfTarget = new Map<string, string>();
    for (const target of config.targets) {
      if (target.probe) fileOfTarget.set(target.id, target.probe.keyFile ?? config.probeKeyFile);
    }
    const files = new ProbeKeyFiles(fileOfTarget, log, clock);
    for (const [path, file] of files.#files) files.#lastGood.set(path, file.current());
    // The global file is read even when every target has its own: the config requires it, and
    // a bad one is better found now than when a target without a key file is added.
    if (!files.#files.has(config.probeKeyFile)) readProbeKeyFile(config.probeKeyFile);
    return files;
  }

  /** Every probe target's ring as the files are now (the last good one for a file that fails). */
  rings(): TargetKeyRings {
    const rings = new Map<string, ProbeKeyRing>();
    for (const [targetId, path] of this.fileOfTarget) rings.set(targetId, this.#ringOf(path));
    return rings;
  }

  #ringOf(path: string): ProbeKeyRing {
    const file = this.#files.get(path) as FileBackedValue<ProbeKeyRing>;
    try {
      const ring = file.current();
      if (this.#lastGood.get(path) !== ring) {
        if (this.#lastGood.has(path))
          this.log.info("probe key file reloaded", { keyFile: path, keys: ring.map((k) => k.id).join(" ") });
        this.#lastGood.set(path, ring);
      }
      this.#warned.delete(path);
      return ring;
    } catch (error) {
      const message = (error as Error).message;
      if (this.#warned.get(path) !== message) {
        this.log.warn("probe key file not reloaded, its previous keys stay in use", { error: message });
        this.#warned.set(path, message);
      }
      return this.#lastGood.get(path) as ProbeKeyRing;
    }
  }
}
