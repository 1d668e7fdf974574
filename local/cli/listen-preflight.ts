import { createServer } from "node:net";

/** A socket serve must listen on, named by its config key (`inbound.listen`, `dashboard`). */
export interface PlannedListener {
  readonly key: string;
  readonly host: string;
  readonly port: number;
}

/**
 * Tries each listener's address before anything is created on disk, so a port that another
 * process holds (often another `serve`, or `probe` waiting for a return) stops start-up with a
 * message naming the port and the config key, not a stack trace after the database was made.
 * The real listen can still lose a race; listenProblem() words that failure the same way.
 */
export async function preflightListeners(listeners: readonly PlannedListener[]): Promise<string | undefined> {
  for (const listener of listeners) {
    const problem = await tryListen(listener);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function tryListen(listener: PlannedListener): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error) => resolve(listenProblem(listener, error)));
    server.listen({ host: listener.host, port: listener.port, exclusive: true }, () => {
      server.close(() => resolve(undefined));
    });
  });
}

/** What an operator reads when `listener` cannot be opened: the cause and the fix. */
export function listenProblem(listener: PlannedListener, error: unknown): string {
  const where = `${listener.key} ${formatAddress(listener.host, listener.port)}`;
  switch ((error as NodeJS.ErrnoException).code) {
    case "EADDRINUSE":
      return (
        `${where} is in use by another process (another email-scout serve, or a probe waiting for its return?); ` +
        `see which with: ss -ltnp 'sport = :${listener.port}'. Stop it, or set ${listener.key} to a free port`
      );
    case "EACCES":
      return (
        `${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE ` +
        `(docs/systemd/port-25.conf), or set ${listener.key} to a port above 1023`
      );
    case "EADDRNOTAVAIL":
      return `${where}: ${listener.host} is not an address of this machine; set ${listener.key} to one of its addresses`;
    default:
      return `${where} cannot be opened: ${(error as Error).message}`;
  }
}

function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
