import { vi } from "vitest";

/** One EMF document as Powertools Metrics writes it: the _aws block, dimension values and metric values. */
export interface EmfLine {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** Collects the EMF lines written to stdout while `run` runs (other output passes through). */
export async function captureEmf<T>(run: () => Promise<T> | T): Promise<{ result: T; lines: EmfLine[] }> {
  const lines: EmfLine[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, "write").mockImplementation(((
    chunk: string | Uint8Array,
    ...rest: unknown[]
  ) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    let consumed = false;
    for (const line of text.split("\n")) {
      if (!line.startsWith('{"_aws"')) continue;
      lines.push(JSON.parse(line) as EmfLine);
      consumed = true;
    }
    return consumed ? true : (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
  try {
    return { result: await run(), lines };
  } finally {
    spy.mockRestore();
  }
}

/** Each metric as (name, unit, dimensions as an object, value): what CloudWatch will make of the lines. */
export function metricPoints(lines: readonly EmfLine[]) {
  return lines.flatMap((line) => {
    const directive = line._aws.CloudWatchMetrics[0];
    const dimensionNames = directive?.Dimensions ?? [];
    return (directive?.Metrics ?? []).map((metric) => ({
      namespace: directive?.Namespace,
      name: metric.Name,
      unit: metric.Unit,
      dimensionSets: dimensionNames,
      dimensions: Object.fromEntries((dimensionNames[0] ?? []).map((name) => [name, line[name]])),
      value: line[metric.Name],
    }));
  });
}
