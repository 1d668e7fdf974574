import { type AddressInfo, connect, createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { ChannelError, LineChannel } from "../../../../core/checks/line-channel.ts";

const server = createServer((socket) => socket.destroy());
afterAll(() => server.close());

describe("LineChannel", () => {
  it("reports a socket that closed before the channel was made as closed, not as a timeout", async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("close", resolve));
    const channel = new LineChannel(socket);
    const read = channel.readLine(Date.now() + 60_000);
    await expect(read).rejects.toBeInstanceOf(ChannelError);
    await expect(read).rejects.toMatchObject({ kind: "closed" });
  });
});
