import type { Status } from "../../core/model/status.ts";
import { shortSubject, type Verdict } from "./fault.ts";
import type { SeenChange, Window } from "./recorder.ts";

export interface ExpectedChange {
  readonly subjects: readonly string[];
  readonly to: Status;
  /** The reason the confirmed change must carry; any of these. */
  readonly reasons: readonly string[];
}

/**
 * Detection by status changes: every subject in `expect` must get a confirmed change to the
 * given status with one of the given reasons; no subject in `unchanged` may change at all.
 */
export function statusChanges(
  window: Window,
  expect: readonly ExpectedChange[],
  unchanged: readonly string[] = [],
): Verdict {
  const matched: SeenChange[] = [];
  const missing: string[] = [];
  for (const rule of expect) {
    for (const subject of rule.subjects) {
      const change = window.changes.find(
        (c) => c.subject === subject && c.to === rule.to && rule.reasons.includes(c.reason),
      );
      if (change) matched.push(change);
      else missing.push(`${shortSubject(subject)} ${rule.to} ${rule.reasons.join("|")}`);
    }
  }
  const problems = window.changes
    .filter((c) => unchanged.includes(c.subject))
    .map((c) => `${shortSubject(c.subject)} changed to ${c.to} ${c.reason}, should have stayed OK`);
  return {
    met: missing.length === 0,
    observed: describeChanges(window.changes) + (missing.length ? `; missing: ${missing.join(", ")}` : ""),
    atMs: Math.max(0, ...matched.map((c) => c.atMs)),
    problems,
  };
}

/** "imap,imaps->CRITICAL refused; roundtrip->CRITICAL send-failed" (grouped by status and reason). */
export function describeChanges(changes: readonly SeenChange[]): string {
  if (changes.length === 0) return "no status change";
  const groups = new Map<string, string[]>();
  for (const c of changes) {
    const key = `${c.to} ${c.reason}`;
    groups.set(key, [...(groups.get(key) ?? []), shortSubject(c.subject)]);
  }
  return [...groups].map(([key, subjects]) => `${subjects.join(",")}->${key}`).join("; ");
}

/** Both verdicts must hold; observations are joined, the later time counts. */
export function both(a: Verdict, b: Verdict): Verdict {
  return {
    met: a.met && b.met,
    observed: [a.observed, b.observed].filter(Boolean).join("; "),
    atMs: Math.max(a.atMs ?? 0, b.atMs ?? 0),
    problems: [...(a.problems ?? []), ...(b.problems ?? [])],
  };
}
