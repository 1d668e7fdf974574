import { describe, expect, it } from "vitest";
import { SendPacer } from "../../../../lambdas/aws/ses-send-pacer.ts";
import { virtualTimer } from "../../../support/virtual-timer.ts";

describe("SendPacer", () => {
  it("lets the first send go at once and each later one a 1/rate apart, in the order they asked", async () => {
    const timer = virtualTimer();
    const start = timer.now();
    const pacer = new SendPacer(4, timer);
    const went: [number, number][] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (index) => {
        await pacer.acquire();
        went.push([index, timer.now() - start]);
      }),
    );
    expect(went).toEqual([
      [0, 0],
      [1, 250],
      [2, 500],
      [3, 750],
      [4, 1000],
    ]);
    expect(timer.pending()).toBe(0);
  });

  it("does not save up slots while nobody sends: a send after a pause waits a full interval for the next", async () => {
    const timer = virtualTimer();
    const pacer = new SendPacer(1, timer);
    await pacer.acquire();
    await timer.sleep(5_000);
    const resumed = timer.now();
    await pacer.acquire();
    await pacer.acquire();
    expect(timer.now() - resumed).toBe(1_000);
  });

  it("refuses a slot past the deadline at once and without taking it", async () => {
    const timer = virtualTimer();
    const pacer = new SendPacer(1, timer);
    const deadline = timer.now() + 1_500;
    expect(await pacer.acquire(deadline)).toBe(true);
    expect(await pacer.acquire(deadline)).toBe(true);
    const before = timer.now();
    expect(await pacer.acquire(deadline)).toBe(false);
    expect(timer.now()).toBe(before);
    // The refused slot is still free for a caller with a later deadline.
    expect(await pacer.acquire(deadline + 1_000)).toBe(true);
    expect(timer.now() - before).toBe(1_000);
  });

  it("refuses a rate that is not above 0", () => {
    expect(() => new SendPacer(0)).toThrow("a send rate must be above 0, not 0");
  });
});
