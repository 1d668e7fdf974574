import { z } from "zod";
import { days, seconds } from "./fields.ts";

/** Check thresholds, as an endpoint, a target or a /probe module writes them. */
export const thresholdsSchema = z.strictObject({
  warningSeconds: seconds().optional(),
  criticalSeconds: seconds().optional(),
  certWarningDays: days.optional(),
  certCriticalDays: days.optional(),
  expectBanner: z
    .string()
    .refine(
      (pattern) => {
        try {
          new RegExp(pattern);
          return true;
        } catch {
          return false;
        }
      },
      { error: "is not a valid regular expression" },
    )
    .optional(),
  verifyTls: z.boolean().optional(),
});
