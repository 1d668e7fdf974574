/*
 * Child process: everything the prober talks to, on 127.0.0.1 port 0. Mail servers (real
 * smtp-server peers with STARTTLS, the fake IMAP and POP3 servers of the tests with STARTTLS/STLS,
 * all with a certificate from a private test CA) and dynalite for DynamoDB. Kept out of the
 * prober's process so its peak RSS is its own. Talks to the parent over IPC:
 *   -> { ready: StandIns }             once everything listens
 *   <- { tables: true }  -> { tables: { probesTable, resultsTable } }   fresh tables per run
 * and ends when the parent goes away.
 */
import { createScoutTables, startDynalite } from "../../test/support/aws-standins.ts";
import { makeTestPki } from "../../test/support/certs.ts";
import { startFakeImap, startFakePop3 } from "../../test/support/fake-mail-servers.ts";
import { startSmtpPeer } from "../../test/support/smtp-peer.ts";

export interface StandIns {
  readonly smtpPorts: number[];
  readonly imapPorts: number[];
  readonly pop3Ports: number[];
  readonly caPem: string;
  readonly dynamoEndpoint: string;
}

export interface StandInCounts {
  readonly smtp: number;
  readonly imap: number;
  readonly pop3: number;
}

export type StandInMessage = { ready: StandIns } | { tables: { probesTable: string; resultsTable: string } };

function send(message: StandInMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error("standins.ts runs as a child with an IPC channel");
  const counts = JSON.parse(process.env.SCOUT_STANDIN_COUNTS ?? "") as StandInCounts;
  const pki = await makeTestPki();
  const identity = pki.valid;
  const many = <T>(count: number, start: () => Promise<T>) =>
    Promise.all(Array.from({ length: count }, start));
  const [smtp, imap, pop3, dynamo] = await Promise.all([
    many(counts.smtp, () => startSmtpPeer({ identity })),
    many(counts.imap, () => startFakeImap({ tls: identity })),
    many(counts.pop3, () => startFakePop3({ tls: identity })),
    startDynalite(),
  ]);
  process.on("message", (message: { tables?: true }) => {
    if (message.tables !== true) return;
    createScoutTables(dynamo.client).then(
      (tables) => send({ tables }),
      (error: unknown) => {
        process.stderr.write(`standins: cannot create the tables: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
  // The parent's end is ours: no server outlives the benchmark.
  process.on("disconnect", () => process.exit(0));
  send({
    ready: {
      smtpPorts: smtp.map((server) => server.port),
      imapPorts: imap.map((server) => server.port),
      pop3Ports: pop3.map((server) => server.port),
      caPem: pki.caPem,
      dynamoEndpoint: dynamo.endpoint,
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `standins: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
