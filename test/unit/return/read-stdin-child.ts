/*
 * Child process for read-bounded.test.ts: reads its standard input with readBoundedFd and
 * prints what it got as JSON on its last line. With "nonblocking" it reads a non-blocking
 * descriptor of the same pipe (reopened through /proc) and says "eagain" when the fallback
 * stream is asked for, so the test can write its input only then.
 */
import { constants, openSync } from "node:fs";
import { Socket } from "node:net";
import { readBoundedFd } from "../../../lambdas/return/read-bounded.ts";

const [mode = "blocking", maxBytes = "1000"] = process.argv.slice(2);
const fd =
  mode === "nonblocking" ? openSync("/proc/self/fd/0", constants.O_RDONLY | constants.O_NONBLOCK) : 0;
const input = await readBoundedFd(fd, Number(maxBytes), () => {
  process.stdout.write("eagain\n");
  return new Socket({ fd, readable: true, writable: false });
});
process.stdout.write(
  `${JSON.stringify({
    totalBytes: input.totalBytes,
    truncated: input.truncated,
    keptBytes: input.data.length,
    head: input.data.subarray(0, 10).toString("latin1"),
  })}\n`,
);
