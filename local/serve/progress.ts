import type { Logger } from "../../core/ports/logger.ts";

/** Below this many steps a run is quick enough that progress lines would only be noise. */
export const PROGRESS_MIN_STEPS = 50;
const QUARTERS = [0.25, 0.5, 0.75] as const;

/**
 * Logs "N of TOTAL" at each quarter of a long run (a first cycle over many targets, a large
 * redrive), so whoever watches the log sees it move instead of a silent minute.
 */
export function progressReporter(log: Logger, what: string, total: number): () => void {
  let done = 0;
  let next = 0;
  const started = Date.now();
  return () => {
    done++;
    if (total < PROGRESS_MIN_STEPS || next >= QUARTERS.length) return;
    const mark = QUARTERS[next] as number;
    if (done < Math.ceil(total * mark)) return;
    next++;
    log.info(`${what} progress`, { done, total, percent: Math.round(mark * 100), ms: Date.now() - started });
  };
}
