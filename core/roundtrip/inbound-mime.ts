import type { ParsedMail } from "mailparser";

/**
 * The first field called `name` as written, whitespace removed at the ends and folding undone:
 * mailparser's decoded `headers` may merge repeated fields or decode encoded words.
 */
export function rawHeader(parsed: ParsedMail, name: string): string | undefined {
  const line = parsed.headerLines.find((h) => h.key === name)?.line;
  if (line === undefined) return undefined;
  return line
    .slice(line.indexOf(":") + 1)
    .replace(/\r?\n(?=[ \t])/g, "")
    .trim();
}

// Loaded on first use: mailparser takes ~180 ms to load, which a cold Lambda pays once. The
// promise is kept: a dynamic import() per message still costs a trip through the module loader.
let mailparser: Promise<typeof import("mailparser")> | undefined;

/** The message as mailparser reads it, bounded (header size, MIME parts); throws on unparseable MIME. */
export async function parseMime(raw: Buffer): Promise<ParsedMail> {
  mailparser ??= import("mailparser");
  const { simpleParser } = await mailparser;
  return simpleParser(raw, {
    keepDeliveryStatus: true,
    ignoreEmbedded: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    keepCidLinks: true,
    checksumAlgo: false,
    maxHeadSize: 256 * 1024,
    maxChildNodes: 50,
  });
}
