import type { HeaderField } from "../wire/parse-headers.ts";

/*
 * The spam verdicts common filters write into the messages they pass, one reader per filter,
 * each from that filter's documentation:
 * - SpamAssassin (and amavis, which writes the same fields): `X-Spam-Status: Yes, score=7.1
 *   required=5.0 tests=... autolearn=no version=3.4.6` and `X-Spam-Flag: YES`
 *   (Mail::SpamAssassin::Conf, add_header).
 * - rspamd: `X-Rspamd-Action: add header` (or no action, greylist, rewrite subject, soft reject,
 *   reject), `X-Spamd-Result: default: True [7.50 / 15.00]; ...`, `X-Rspamd-Score: 7.5`, and
 *   `X-Spam: Yes` (rspamd milter_headers module). Its x-spam-status routine writes the
 *   SpamAssassin field too, as `X-Spam-Status: No, score=-0.70`: without SpamAssassin's
 *   `required=`, beside rspamd's own fields, that one is rspamd's and no SpamAssassin verdict.
 * - Microsoft 365 / Exchange Online Protection: `X-Forefront-Antispam-Report: ...;SCL:5;
 *   SFV:SPM;...` and `X-MS-Exchange-Organization-SCL: 5` (learn.microsoft.com, "Anti-spam
 *   message headers"): SCL -1, 0, 1 is not spam; 5, 6 spam; 9 high-confidence spam; SFV:SPM
 *   spam, SFV:NSPM not spam, SFV:SKS marked spam before filtering, SFV:BLK blocked sender.
 * - Barracuda: `X-Barracuda-Spam-Status: Yes, SCORE=7.20 using global scores of TAG_LEVEL=3.5
 *   QUARANTINE_LEVEL=1000.0 KILL_LEVEL=9.0 tests=...`.
 * None of them carries an identity like an authserv-id, and filters put them at the top or the
 * bottom of the header section (a milter's added fields go last), so they are read anywhere in
 * the block: the probe as the monitor sends it carries none of them. Of each field the newest
 * (topmost) counts, so a receiver's verdict overrules one a relay on the way wrote.
 */

export type SpamFilter = "spamassassin" | "rspamd" | "microsoft" | "barracuda";

export interface SpamVerdict {
  readonly filter: SpamFilter;
  readonly verdict: "ham" | "spam" | "unknown";
  readonly score?: number;
  readonly threshold?: number;
  /** Microsoft's spam confidence level, -1..9. */
  readonly scl?: number;
  /** The filter's own word for it: rspamd's action, Microsoft's SFV, a malformed field's problem. */
  readonly detail?: string;
}

type Reader = (newest: (name: string) => string | undefined) => SpamVerdict | undefined;

/** The fields only rspamd writes. */
const RSPAMD_FIELDS = [
  "x-rspamd-action",
  "x-spamd-result",
  "x-rspamd-score",
  "x-rspamd-server",
  "x-rspamd-queue-id",
];

/** SpamAssassin and amavis: "Yes|No, score=N required=N ...". */
function spamAssassin(newest: (name: string) => string | undefined): SpamVerdict | undefined {
  let status = newest("x-spam-status");
  // rspamd's "Yes|No, score=N": SpamAssassin and amavis always say required=.
  if (
    status !== undefined &&
    !/\brequired=/i.test(status) &&
    RSPAMD_FIELDS.some((name) => newest(name) !== undefined)
  ) {
    status = undefined;
  }
  const flag = newest("x-spam-flag");
  if (status === undefined && flag === undefined) return undefined;
  const word = /^\s*(yes|no)\b/i.exec(status ?? flag ?? "")?.[1]?.toLowerCase();
  const score = numberAfter(status, /\b(?:score|hits)=(-?\d+(?:\.\d+)?)/i);
  const threshold = numberAfter(status, /\brequired=(-?\d+(?:\.\d+)?)/i);
  const verdict = word === "yes" ? "spam" : word === "no" ? "ham" : "unknown";
  return {
    filter: "spamassassin",
    verdict,
    ...(score !== undefined && { score }),
    ...(threshold !== undefined && { threshold }),
    ...(verdict === "unknown" && { detail: "X-Spam-Status/X-Spam-Flag says neither Yes nor No" }),
  };
}

/** rspamd's actions (rspamd.com, "Actions and scores"): which of them mean "this is spam". */
const RSPAMD_ACTIONS: Readonly<Record<string, "ham" | "spam">> = {
  "no action": "ham",
  greylist: "ham",
  "add header": "spam",
  "rewrite subject": "spam",
  "soft reject": "spam",
  reject: "spam",
};

function rspamd(newest: (name: string) => string | undefined): SpamVerdict | undefined {
  const action = newest("x-rspamd-action")?.trim().toLowerCase();
  const result = newest("x-spamd-result");
  const flag = newest("x-spam");
  const scoreText = newest("x-rspamd-score");
  if (action === undefined && result === undefined && scoreText === undefined) return undefined;
  const bracket = /\[\s*(-?\d+(?:\.\d+)?)\s*\/\s*(-?\d+(?:\.\d+)?)\s*\]/.exec(result ?? "");
  const isSpam = /^\s*default\s*:\s*(true|false)\b/i.exec(result ?? "")?.[1]?.toLowerCase();
  let verdict: SpamVerdict["verdict"] = "unknown";
  if (action !== undefined && RSPAMD_ACTIONS[action] !== undefined) verdict = RSPAMD_ACTIONS[action];
  else if (isSpam !== undefined) verdict = isSpam === "true" ? "spam" : "ham";
  else if (flag !== undefined && /^\s*yes\b/i.test(flag)) verdict = "spam";
  const score = bracket ? Number(bracket[1]) : numberAfter(scoreText, /^\s*(-?\d+(?:\.\d+)?)/);
  const threshold = bracket ? Number(bracket[2]) : undefined;
  return {
    filter: "rspamd",
    verdict,
    ...(score !== undefined && { score }),
    ...(threshold !== undefined && { threshold }),
    ...(action !== undefined && { detail: action.replace(/[^\x20-\x7e]/g, "?").slice(0, 40) }),
  };
}

/** SFV values (learn.microsoft.com, anti-spam message headers) that decide by themselves. */
const MICROSOFT_SFV: Readonly<Record<string, "ham" | "spam">> = {
  SPM: "spam",
  SKS: "spam",
  BLK: "spam",
  NSPM: "ham",
  SKN: "ham",
  SKA: "ham",
  SKI: "ham",
  SFE: "ham",
};

function microsoft(newest: (name: string) => string | undefined): SpamVerdict | undefined {
  const report = newest("x-forefront-antispam-report");
  const organizationScl = newest("x-ms-exchange-organization-scl");
  if (report === undefined && organizationScl === undefined) return undefined;
  const fields = new Map<string, string>();
  for (const part of (report ?? "").split(";")) {
    const colon = part.indexOf(":");
    if (colon > 0) fields.set(part.slice(0, colon).trim().toUpperCase(), part.slice(colon + 1).trim());
  }
  const sclText = fields.get("SCL") ?? organizationScl?.trim();
  const scl = sclText !== undefined && /^-?\d$/.test(sclText) ? Number(sclText) : undefined;
  const sfv = fields.get("SFV")?.toUpperCase();
  let verdict: SpamVerdict["verdict"] = "unknown";
  if (sfv !== undefined && MICROSOFT_SFV[sfv] !== undefined) verdict = MICROSOFT_SFV[sfv];
  else if (scl !== undefined) verdict = scl >= 5 ? "spam" : "ham";
  return {
    filter: "microsoft",
    verdict,
    ...(scl !== undefined && { scl }),
    ...(sfv !== undefined && /^[A-Z]{2,8}$/.test(sfv) && { detail: `SFV:${sfv}` }),
  };
}

function barracuda(newest: (name: string) => string | undefined): SpamVerdict | undefined {
  const status = newest("x-barracuda-spam-status");
  if (status === undefined) return undefined;
  const word = /^\s*(yes|no)\b/i.exec(status)?.[1]?.toLowerCase();
  const score = numberAfter(status, /\bSCORE=(-?\d+(?:\.\d+)?)/i);
  const threshold = numberAfter(status, /\bTAG_LEVEL=(-?\d+(?:\.\d+)?)/i);
  return {
    filter: "barracuda",
    verdict: word === "yes" ? "spam" : word === "no" ? "ham" : "unknown",
    ...(score !== undefined && { score }),
    ...(threshold !== undefined && { threshold }),
  };
}

const READERS: readonly Reader[] = [spamAssassin, rspamd, microsoft, barracuda];

/** The verdict of every filter that left its fields in `fields` (newest first), in table order. */
export function spamVerdicts(fields: readonly HeaderField[]): SpamVerdict[] {
  const newest = (name: string) => fields.find((field) => field.name.toLowerCase() === name)?.value;
  return READERS.map((read) => read(newest)).filter((verdict) => verdict !== undefined);
}

function numberAfter(text: string | undefined, pattern: RegExp): number | undefined {
  const match = text === undefined ? null : pattern.exec(text);
  const value = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}
