import { lookup } from "node:dns/promises";
import { isIP, connect as netConnect, type Socket } from "node:net";
import type { IpFamily } from "./endpoint.ts";
import { CheckFailure } from "./errors.ts";

/** Resolves a host to one address of the wanted family, within a deadline. */
export async function resolveHost(host: string, family: IpFamily, deadline: number): Promise<string> {
  if (isIP(host)) return host;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CheckFailure(
            "timeout-resolve",
            "resolve",
            `resolving ${host} did not finish before the deadline`,
          ),
        ),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    const addresses = await Promise.race([
      lookup(host, { all: true, family: family === "any" ? 0 : family }),
      timeout,
    ]);
    const first = addresses[0];
    if (!first)
      throw new CheckFailure("dns-failed", "resolve", `${host} has no ${familyName(family)} address`);
    return first.address;
  } catch (error) {
    if (error instanceof CheckFailure) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CheckFailure(
      "dns-failed",
      "resolve",
      `cannot resolve ${host} (${code}) for ${familyName(family)}`,
      undefined,
      {
        cause: error,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

function familyName(family: IpFamily): string {
  return family === "any" ? "IPv4 or IPv6" : `IPv${family}`;
}

/** Opens a TCP connection within a deadline, naming refusal, unreachability and timeout apart. */
export function connectTcp(
  address: string,
  port: number,
  options: { deadline: number; sourceAddress?: string },
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({
      host: address,
      port,
      noDelay: true,
      ...(options.sourceAddress ? { localAddress: options.sourceAddress } : {}),
    });
    const timer = setTimeout(
      () => {
        cleanup();
        socket.destroy();
        reject(
          new CheckFailure(
            "timeout-connect",
            "connect",
            `no TCP connection to ${address}:${port} before the deadline`,
          ),
        );
      },
      Math.max(0, options.deadline - Date.now()),
    );
    const onError = (error: NodeJS.ErrnoException) => {
      cleanup();
      socket.destroy();
      const code = error.code ?? "";
      // Anything but an outright refusal (firewall EACCES/EPERM, no route...) means the host cannot be reached.
      const reason = code === "ECONNREFUSED" ? "refused" : "unreachable";
      reject(
        new CheckFailure(
          reason,
          "connect",
          `connect to ${address}:${port} failed: ${code || error.message}`,
          undefined,
          { cause: error },
        ),
      );
    };
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    function cleanup() {
      clearTimeout(timer);
      socket.off("error", onError);
      socket.off("connect", onConnect);
    }
    socket.once("error", onError);
    socket.once("connect", onConnect);
  });
}
