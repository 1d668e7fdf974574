import { z } from "zod";

/* The small value types every part of the configuration is made of. */

/** A duration in seconds, up to 30 days. */
export const seconds = () =>
  z
    .number()
    .positive()
    .max(86_400 * 30);
export const days = z.number().int().min(0).max(3650);
export const address = z.string().regex(/^[^\s@<>()]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/, {
  error: "must be a plain mail address like probe@example.com",
});
export const domain = z
  .string()
  .regex(/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/, {
    error: "must be a domain name like scout-returns.example.com",
  });
export const path = z.string().min(1);
export const port = z.number().int().min(0).max(65_535);
