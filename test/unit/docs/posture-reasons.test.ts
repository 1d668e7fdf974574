import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { POSTURE_REASONS } from "../../../core/posture/posture-reasons.ts";

/* README's posture reason table is the list in core/posture/posture-reasons.ts, row for row. */
const readme = readFileSync(resolve(import.meta.dirname, "../../../README.md"), "utf8");
const section = readme.slice(readme.indexOf("### Posture reasons"));

describe("README's posture reasons", () => {
  it.each(Object.entries(POSTURE_REASONS))(
    "lists %s with its status and meaning",
    (reason, { status, text }) => {
      const row = section.split("\n").find((line) => line.startsWith(`| \`${reason}\` `));
      expect(row?.split("|").map((cell) => cell.trim())).toEqual(["", `\`${reason}\``, status, text, ""]);
    },
  );
});
