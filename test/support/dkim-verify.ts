import { createHash, type KeyObject, verify } from "node:crypto";

/*
 * An independent DKIM verifier for tests (RFC 6376: rsa-sha256, relaxed/relaxed canonicalization,
 * the only kind the monitor signs), written from the RFC rather than from the signer, so a test
 * that passes it shows a receiver would pass the signature too.
 */

export type DkimCheck =
  | { readonly result: "pass"; readonly domain: string; readonly selector: string; readonly signed: string[] }
  | { readonly result: "fail" | "none"; readonly why: string };

/** Verifies the first DKIM-Signature of `message` with the public key a DNS lookup would give. */
export function verifyDkim(message: Buffer, publicKey: KeyObject): DkimCheck {
  // A message stored on disk (Maildir, mbox) has LF line ends; on the wire, and to DKIM, it is CRLF.
  const text = message.toString("latin1").replace(/\r?\n/g, "\r\n");
  const split = text.indexOf("\r\n\r\n");
  if (split < 0) return { result: "fail", why: "no end of header" };
  const fields = headerFields(text.slice(0, split + 2));
  const signature = fields.find((field) => field.name.toLowerCase() === "dkim-signature");
  if (signature === undefined) return { result: "none", why: "no DKIM-Signature" };
  const tags = new Map(
    signature.value
      .replace(/\s+/g, "")
      .split(";")
      .filter((tag) => tag !== "")
      .map((tag) => [tag.slice(0, tag.indexOf("=")), tag.slice(tag.indexOf("=") + 1)]),
  );
  if (tags.get("a") !== "rsa-sha256" || tags.get("c") !== "relaxed/relaxed") {
    return { result: "fail", why: `a=${tags.get("a")} c=${tags.get("c")}` };
  }
  const bodyHash = createHash("sha256")
    .update(relaxedBody(text.slice(split + 4)), "latin1")
    .digest("base64");
  if (bodyHash !== tags.get("bh")) return { result: "fail", why: "body hash differs" };
  const signed = (tags.get("h") ?? "").split(":").map((name) => name.toLowerCase());
  // RFC 6376 §5.4.2: each listed name takes the next instance from the bottom up.
  const remaining = fields.filter((field) => field !== signature);
  let data = "";
  for (const name of signed) {
    const index = remaining.map((field) => field.name.toLowerCase()).lastIndexOf(name);
    if (index < 0) continue;
    const [field] = remaining.splice(index, 1);
    if (field !== undefined) data += `${relaxedHeader(field)}\r\n`;
  }
  data += relaxedHeader({ ...signature, raw: signature.raw.replace(/(\bb=)[^;]*/, "$1") });
  const ok = verify(
    "sha256",
    Buffer.from(data, "latin1"),
    publicKey,
    Buffer.from(tags.get("b") ?? "", "base64"),
  );
  if (!ok) return { result: "fail", why: "signature does not verify" };
  return { result: "pass", domain: tags.get("d") ?? "", selector: tags.get("s") ?? "", signed };
}

interface Field {
  readonly name: string;
  readonly value: string;
  /** Everything after the colon, folding included. */
  readonly raw: string;
}

function headerFields(header: string): Field[] {
  const fields: Field[] = [];
  for (const line of header.split("\r\n")) {
    if (line === "") continue;
    const last = fields.at(-1);
    if (/^[ \t]/.test(line) && last !== undefined) {
      fields[fields.length - 1] = { ...last, value: `${last.value}${line}`, raw: `${last.raw}\r\n${line}` };
    } else {
      const colon = line.indexOf(":");
      fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1), raw: line.slice(colon + 1) });
    }
  }
  return fields;
}

/** RFC 6376 §3.4.2. */
function relaxedHeader(field: Pick<Field, "name" | "raw">): string {
  const value = field.raw
    .replace(/\r\n/g, "")
    .replace(/[ \t]+/g, " ")
    .trim();
  return `${field.name.trim().toLowerCase()}:${value}`;
}

/** RFC 6376 §3.4.4. */
function relaxedBody(body: string): string {
  const lines = body.split("\r\n").map((line) => line.replace(/[ \t]+/g, " ").replace(/ $/, ""));
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines.length === 0 ? "" : `${lines.join("\r\n")}\r\n`;
}
