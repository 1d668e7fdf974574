import { once } from "node:events";
import { type AddressInfo, connect, type Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { greetPromptly } from "../../../../local/adapters/prompt-greeting.ts";

/*
 * The listener greets without smtp-server's 100 ms early-talker pause (the time saved shows in
 * bench:round-trip, not here: tests never assert short durations). What is tested: the hook
 * still finds the library internals it relies on, a marked server greets and keeps its
 * connection limit, and an unmarked one is left as the library made it.
 */
const servers: SMTPServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

async function start(prompt: boolean, maxClients?: number): Promise<number> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    disableReverseLookup: true,
    banner: "test",
    ...(maxClients ? { maxClients } : {}),
  });
  if (prompt) expect(greetPromptly(server)).toBe(true);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  return (server.server.address() as AddressInfo).port;
}

async function firstLine(port: number): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  let text = "";
  for await (const chunk of socket) {
    text += String(chunk);
    if (text.includes("\r\n")) break;
  }
  return text.split("\r\n")[0] ?? "";
}

describe("greetPromptly", () => {
  it("finds smtp-server's internals and the marked server greets", async () => {
    const port = await start(true);
    expect(await firstLine(port)).toMatch(/^220 .*test/);
  });

  it("keeps the connection limit: one client too many gets 421", async () => {
    const port = await start(true, 1);
    expect(await firstLine(port)).toMatch(/^220 /);
    expect(await firstLine(port)).toMatch(/^421 .*Too many connected clients/);
  });

  it("leaves an unmarked server's greeting to the library", async () => {
    const port = await start(false);
    expect(await firstLine(port)).toMatch(/^220 .*test/);
  });
});
