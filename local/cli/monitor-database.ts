import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ScoutConfig } from "../../core/config/schema.ts";
import { SqliteStore } from "../adapters/sqlite-store.ts";
import { DATABASE_FILE } from "../serve/monitor.ts";
import type { CommandIo } from "./io.ts";

/**
 * Runs `use` on the SQLite file "email-scout serve" keeps under the config's dataDir, closing
 * it afterwards. Before serve has made the file there is nothing to read: exit 1, with
 * `missing` (what the command lacks) and how to start the monitor.
 */
export async function withMonitorDatabase(
  config: ScoutConfig,
  configPath: string,
  io: CommandIo,
  missing: string,
  use: (store: SqliteStore) => number | Promise<number>,
): Promise<number> {
  const dbPath = join(config.dataDir, DATABASE_FILE);
  if (!existsSync(dbPath)) {
    io.stderr(
      `${missing} (${dbPath} does not exist); start the monitor with: email-scout serve --config ${configPath}`,
    );
    return 1;
  }
  const store = await SqliteStore.open(dbPath);
  try {
    return await use(store);
  } finally {
    store.close();
  }
}
