import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Spool, type SpoolMeta, SpoolSizeError } from "../../../../local/adapters/spool.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "scout-spool-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const meta = (receivedAtMs: number): SpoolMeta => ({
  envelope: { from: "", to: ["returns@scout.example.net"] },
  receivedAtMs,
  remoteAddress: "127.0.0.1",
});
const message = (n: number) => Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`);

describe("Spool", () => {
  it("creates its directories private to the owner", async () => {
    await Spool.open(join(dir, "spool"));
    for (const sub of ["", "incoming", "rejected", "tmp"]) {
      expect((await stat(join(dir, "spool", sub))).mode & 0o777).toBe(0o700);
    }
  });

  it("stores bytes and meta, and lists pending messages oldest first", async () => {
    const spool = await Spool.open(dir);
    const later = await spool.write(message(2), meta(2_000));
    const earlier = await spool.write(
      Readable.from([message(1).subarray(0, 5), message(1).subarray(5)]),
      meta(1_000),
    );
    expect(await spool.pending()).toEqual([earlier, later]);
    const entry = await spool.read(earlier);
    expect(entry.raw.equals(message(1))).toBe(true);
    expect(entry.meta).toEqual({ ...meta(1_000), id: earlier, size: message(1).length });
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    expect((await stat(join(dir, "incoming", earlier, "message.eml"))).mode & 0o777).toBe(0o600);
  });

  it("keeps a message still being written out of pending(), and commits it whole", async () => {
    const spool = await Spool.open(dir);
    const source = new PassThrough();
    const writing = spool.write(source, meta(1_000));
    source.write("Subject: slow\r\n");
    // The first chunk reaches tmp/ while the message is not complete yet.
    await expect.poll(async () => (await readdir(join(dir, "tmp"))).length).toBe(1);
    expect(await spool.pending()).toEqual([]);
    source.end("\r\nbody\r\n");
    const id = await writing;
    expect(await spool.pending()).toEqual([id]);
    expect(await readdir(join(dir, "incoming", id))).toEqual(["message.eml", "meta.json"]);
    expect((await spool.read(id)).raw.toString()).toBe("Subject: slow\r\n\r\nbody\r\n");
  });

  it("refuses a stream over the limit, deletes the partial copy and drains the stream", async () => {
    const spool = await Spool.open(dir, { maxBytes: 1000 });
    const source = new PassThrough();
    const writing = spool.write(source, meta(1_000));
    source.write(Buffer.alloc(600, 0x61));
    source.write(Buffer.alloc(600, 0x62));
    await expect(writing).rejects.toBeInstanceOf(SpoolSizeError);
    // Still drained: the rest of the stream flows to its end without anyone reading it.
    const ended = new Promise((resolve) => source.on("end", resolve));
    source.end(Buffer.alloc(5000));
    await ended;
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    expect(await spool.pending()).toEqual([]);
    await expect(spool.write(Buffer.alloc(2000), meta(1))).rejects.toBeInstanceOf(SpoolSizeError);
    expect(await spool.write(Buffer.alloc(2000), meta(1), { maxBytes: 2000 })).toMatch(/^0+1-/);
  });

  it.each([
    ["at once", false],
    ["mid-copy", true],
  ])("keeps nothing when the stream breaks off %s", async (_when, midCopy) => {
    const spool = await Spool.open(dir);
    const source = new PassThrough();
    const writing = spool.write(source, meta(1_000));
    source.write("Subject: half\r\n");
    if (midCopy) {
      // The first chunk is in the file: the copy is under way.
      await expect
        .poll(async () => {
          const [name] = await readdir(join(dir, "tmp"));
          if (name === undefined) return 0;
          return (await stat(join(dir, "tmp", name, "message.eml")).catch(() => undefined))?.size ?? 0;
        })
        .toBeGreaterThan(0);
    }
    source.destroy();
    await expect(writing).rejects.toThrow(/closed before its end/);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    expect(await spool.pending()).toEqual([]);
  });

  it("rejects into rejected/ with the reason, and removes", async () => {
    const spool = await Spool.open(dir, { clock: { now: () => 5_000 } });
    const first = await spool.write(message(1), meta(1_000));
    const second = await spool.write(message(2), meta(2_000));
    await spool.reject(first, "unknown-probe");
    expect(await spool.pending()).toEqual([second]);
    expect(await spool.rejected()).toEqual([first]);
    const rejected = await spool.read(first, "rejected");
    expect(rejected.meta.rejected).toEqual({ reason: "unknown-probe", atMs: 5_000 });
    expect(rejected.raw.equals(message(1))).toBe(true);
    await spool.remove(second);
    expect(await spool.pending()).toEqual([]);
    await expect(spool.remove(second)).rejects.toThrow(/ENOENT/);
  });

  it("rejects a message whose earlier rejection stopped halfway (its new meta left behind)", async () => {
    const spool = await Spool.open(dir);
    const id = await spool.write(message(1), meta(1_000));
    await writeFile(join(dir, "incoming", id, "meta.json.next"), "{ half a meta");
    await spool.reject(id, "no-token");
    expect(await spool.pending()).toEqual([]);
    expect((await spool.read(id, "rejected")).meta.rejected?.reason).toBe("no-token");
  });

  it("refuses ids that are not its own (no path traversal)", async () => {
    const spool = await Spool.open(dir);
    await expect(spool.read("../../etc/passwd")).rejects.toThrow(RangeError);
    await expect(spool.remove("..")).rejects.toThrow(RangeError);
  });

  it("on open, sweeps stale leftovers of a crashed write from tmp/, not fresh ones", async () => {
    await Spool.open(dir);
    const stale = join(dir, "tmp", "000000000001000-00000000000000aa");
    const fresh = join(dir, "tmp", "000000000001000-00000000000000bb");
    for (const path of [stale, fresh]) {
      await mkdir(path);
      await writeFile(join(path, "message.eml"), "partial");
    }
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(stale, old, old);
    const spool = await Spool.open(dir);
    expect(await readdir(join(dir, "tmp"))).toEqual(["000000000001000-00000000000000bb"]);
    expect(await spool.pending()).toEqual([]);
    expect(await readFile(join(fresh, "message.eml"), "utf8")).toBe("partial");
  });

  describe("pruneRejected", () => {
    /** Rejected entries received at each time, `size` bytes of message each. */
    async function rejectedAt(spool: Spool, times: number[], size = 100): Promise<string[]> {
      const ids: string[] = [];
      for (const atMs of times) {
        const id = await spool.write(Buffer.alloc(size, "x"), meta(atMs));
        await spool.reject(id, "no-token");
        ids.push(id);
      }
      return ids;
    }

    it("removes rejected mail received before the cutoff, and nothing pending", async () => {
      const spool = await Spool.open(dir);
      const [, , young] = await rejectedAt(spool, [1_000, 2_000, 9_000]);
      const pending = await spool.write(message(1), meta(500));
      const result = await spool.pruneRejected(5_000, Number.MAX_SAFE_INTEGER);
      expect(result.removed).toBe(2);
      expect(await spool.rejected()).toEqual([young]);
      expect(await spool.pending()).toEqual([pending]);
    });

    it("removes the oldest until the rest holds at most maxBytes", async () => {
      const spool = await Spool.open(dir);
      const ids = await rejectedAt(spool, [1_000, 2_000, 3_000, 4_000], 10_000);
      const entryBytes = async (id: string) =>
        (await stat(join(dir, "rejected", id, "message.eml"))).size +
        (await stat(join(dir, "rejected", id, "meta.json"))).size;
      const sizes = await Promise.all(ids.map(entryBytes));
      const lastTwo = (sizes[2] ?? 0) + (sizes[3] ?? 0);
      // Room for two and a half entries: the two oldest go.
      const result = await spool.pruneRejected(0, lastTwo + 5_000);
      expect(await spool.rejected()).toEqual(ids.slice(2));
      expect(result).toEqual({ removed: 2, bytes: (sizes[0] ?? 0) + (sizes[1] ?? 0) });
    });
  });
});
