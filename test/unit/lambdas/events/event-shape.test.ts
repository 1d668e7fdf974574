import { describe, expect, it } from "vitest";
import {
  array,
  checkShape,
  integer,
  object,
  oneOf,
  optional,
  record,
  string,
  withDefault,
} from "../../../../lambdas/events/event-shape.ts";

const shape = object({
  name: string({ minLength: 1 }),
  size: optional(integer({ min: 0 })),
  kind: oneOf(["a", "b"]),
  tags: withDefault(record(string()), () => ({})),
  items: array(object({ key: string() }), { minLength: 1 }),
});

describe("event shapes", () => {
  it("keeps the declared fields, drops the others, fills defaults and leaves absent optionals out", () => {
    const { value, problems } = checkShape(shape, {
      name: "x",
      kind: "a",
      items: [{ key: "k", more: 1 }],
      extra: 2,
    });
    expect(problems).toEqual([]);
    expect(value).toEqual({ name: "x", kind: "a", tags: {}, items: [{ key: "k" }] });
    expect("size" in value).toBe(false);
  });

  it("names every problem by its key path, at once", () => {
    const { problems } = checkShape(shape, {
      name: "",
      size: -1,
      kind: "c",
      tags: { ok: "y", bad: 3 },
      items: [{ key: "k" }, { key: 7 }, "no"],
    });
    expect(problems).toEqual([
      "name: must be a string of at least 1 characters",
      "size: must be a whole number of at least 0",
      "kind: must be one of a, b",
      "tags.bad: must be a string",
      "items[1].key: must be a string",
      "items[2]: must be an object",
    ]);
    expect(checkShape(shape, [1]).problems).toEqual(["(top level): must be an object"]);
    expect(checkShape(shape, { name: "x", kind: "b", items: [] }).problems).toEqual([
      "items: must hold at least 1 item(s)",
    ]);
  });
});
