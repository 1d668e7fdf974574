import { cpus, totalmem } from "node:os";

/** One line naming the machine a report was made on. */
export function machineLine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? "unknown CPU";
  return `${cpu.length} CPU(s) (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}`;
}
