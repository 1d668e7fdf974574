import { z } from "zod";
import { path } from "./fields.ts";
import { thresholdsSchema } from "./thresholds-schema.ts";

/*
 * dashboard.prometheusProbe: the modules /probe?module=NAME&target=URL runs a check with,
 * as blackbox_exporter's modules are. The target comes from the scraper; everything that
 * shapes the check (trust, login, thresholds, deadline) comes from here.
 */

/** Prometheus' default scrape timeout is 10 s; a check never runs longer than its scrape. */
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 10;

export const probeModuleSchema = z
  .strictObject({
    /** Deadline of the whole check; a shorter scrape timeout (from Prometheus' header) wins. */
    timeoutSeconds: z.number().positive().max(120).default(DEFAULT_PROBE_TIMEOUT_SECONDS),
    /** Trust only the CAs in this PEM file instead of the system's. */
    caFile: path.optional(),
    login: z.strictObject({ user: z.string().min(1), passwordFile: path }).optional(),
    thresholds: thresholdsSchema.optional(),
    /** STARTTLS policy on plain-text ports, unless the target URL names its own (?starttls=). */
    starttls: z.enum(["required", "optional", "off"]).optional(),
    /**
     * Hosts (names or addresses, as written in the target URL) this module may check. Required
     * with login: otherwise whoever may scrape could send the password to a host of their choice.
     */
    allowedHosts: z.array(z.string().min(1).max(253)).min(1).optional(),
  })
  .superRefine((module, context) => {
    if (module.login && !module.allowedHosts) {
      context.addIssue({
        code: "custom",
        path: ["allowedHosts"],
        message:
          "is required with login: list the hosts this module may log in to, so a scrape cannot send the password elsewhere",
      });
    }
  });

const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const prometheusProbeSchema = z.strictObject({
  /** Checks /probe runs at once; one more scrape is answered 503 at once instead of queueing. */
  maxConcurrentChecks: z.number().int().min(1).max(256).default(8),
  modules: z.record(z.string(), probeModuleSchema).superRefine((modules, context) => {
    const names = Object.keys(modules);
    if (names.length === 0) context.addIssue({ code: "custom", message: "name at least one module" });
    for (const name of names.filter((name) => !MODULE_NAME.test(name))) {
      context.addIssue({
        code: "custom",
        path: [name],
        message: "module names are 1-64 characters of letters, digits, . _ - (they appear in scrape URLs)",
      });
    }
  }),
});

export type ProbeModuleConfig = z.infer<typeof probeModuleSchema>;
export type PrometheusProbeConfig = z.infer<typeof prometheusProbeSchema>;
