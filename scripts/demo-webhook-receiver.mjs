#!/usr/bin/env node
// The demo's webhook consumer (`npm start` runs it): receives Email Scout's events on
// http://127.0.0.1:8026/hooks, verifies each Standard Webhooks signature with the demo's
// secret, and prints one line per event to its log (.data/demo/webhooks.log):
//   2026-12-02T10:20:01.512Z check.completed demo smtp://127.0.0.1 OK ok  (signature ok)
// What a real consumer (sentinel3G, your own) does first: check the signature and the
// timestamp, answer 2xx quickly, then deduplicate by webhook-id.
//   node scripts/demo-webhook-receiver.mjs SECRET_FILE [PORT] [--while-pid PID]
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [secretFile, portText = "8026"] = process.argv
  .slice(2)
  .filter((a, i, all) => a !== "--while-pid" && all[i - 1] !== "--while-pid");
const whilePid = Number(process.argv[process.argv.indexOf("--while-pid") + 1]) || undefined;
if (!secretFile) {
  console.error("usage: demo-webhook-receiver.mjs SECRET_FILE [PORT] [--while-pid PID]");
  process.exit(2);
}
const key = Buffer.from(
  readFileSync(secretFile, "utf8")
    .trim()
    .replace(/^whsec_/, ""),
  "base64",
);
const TOLERANCE_S = 5 * 60;

function verified(headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = String(headers["webhook-signature"] ?? "").split(" ");
  if (!id || !timestamp) return "missing webhook-id or webhook-timestamp";
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_S)
    return "timestamp too old or in the future";
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  const ok = signatures.some((entry) => {
    const [version, signature] = entry.split(",");
    const given = Buffer.from(signature ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
  return ok ? undefined : "bad signature";
}

function describe(event) {
  const d = event.data ?? {};
  const subject = d.endpoint ?? d.subject ?? (d.probeId ? `probe ${d.probeId}` : "");
  const what = [d.status, d.reason ?? d.state, d.rttMs === undefined ? undefined : `rtt ${d.rttMs} ms`]
    .filter((part) => part !== undefined)
    .join(" ");
  return `${event.type} ${event.target?.id ?? event.target ?? ""} ${subject} ${what}`
    .replace(/\s+/g, " ")
    .trim();
}

const server = createServer((request, response) => {
  const chunks = [];
  let size = 0;
  request.on("data", (chunk) => {
    size += chunk.length;
    if (size > 1_048_576) request.destroy();
    else chunks.push(chunk);
  });
  request.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const problem =
      request.method === "POST" && request.url === "/hooks"
        ? verified(request.headers, body)
        : "not POST /hooks";
    if (problem) {
      console.log(`${new Date().toISOString()} refused: ${problem}`);
      response.writeHead(problem === "not POST /hooks" ? 404 : 401).end();
      return;
    }
    let event;
    try {
      event = JSON.parse(body);
    } catch {
      response.writeHead(400).end();
      return;
    }
    console.log(
      `${new Date().toISOString()} ${describe(event)}  (signature ok, ${request.headers["webhook-id"]})`,
    );
    response.writeHead(204).end();
  });
});
server.listen(Number(portText), "127.0.0.1", () => {
  console.log(
    `${new Date().toISOString()} demo webhook receiver listening on http://127.0.0.1:${portText}/hooks`,
  );
});
server.on("error", (error) => {
  console.error(`demo webhook receiver: ${error.message}`);
  process.exit(1);
});
// Ends with the serve it was started for (npm start execs serve in place of its shell).
if (whilePid) {
  setInterval(() => {
    try {
      process.kill(whilePid, 0);
    } catch {
      process.exit(0);
    }
  }, 2_000).unref();
  setInterval(() => {}, 60_000);
}
