/*
 * Schemas of the few Lambda events the handlers take (EventBridge, S3, SQS), and of the config
 * file they read (lambdas/runtime/deploy-config-file.ts), as data: each shape
 * checks a value, names every problem by its key path ("Records[0].s3.object.key: is required")
 * and returns the value with only the fields it declares. Small on purpose: the handlers' bundles
 * carry no validation library (zod alone was 444 KB of each), and the events need only these
 * rules. The configuration is validated by the CDK app at synth, with the full schema.
 */

/** One rule over a value at `key`; adds a problem per fault and returns what it read. */
export interface Shape<T> {
  read(value: unknown, key: string, problems: string[]): T;
  /** Set on shapes made by `optional`: the object may leave the field out. */
  readonly optional?: true;
}

export type ShapeOf<S> = S extends Shape<infer T> ? T : never;

type Fields = Record<string, Shape<unknown>>;
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { optional: true } ? K : never;
}[keyof F];
type ObjectOf<F extends Fields> = { [K in Exclude<keyof F, OptionalKeys<F>>]: ShapeOf<F[K]> } & {
  [K in OptionalKeys<F>]?: ShapeOf<F[K]>;
};

const where = (key: string) => key || "(top level)";

/** A shape from a test of the value; `message` names what it must be. */
function rule<T>(test: (value: unknown) => boolean, message: string): Shape<T> {
  return {
    read(value, key, problems) {
      if (value === undefined) problems.push(`${where(key)}: is required`);
      else if (!test(value)) problems.push(`${where(key)}: ${message}`);
      return value as T;
    },
  };
}

export function string(
  options: { minLength?: number; pattern?: RegExp; error?: string } = {},
): Shape<string> {
  const { minLength = 0, pattern } = options;
  const message =
    options.error ??
    (minLength > 0 ? `must be a string of at least ${minLength} characters` : "must be a string");
  return rule(
    (value) => typeof value === "string" && value.length >= minLength && (pattern?.test(value) ?? true),
    message,
  );
}

/** Exactly `expected`; an `error` given here is said of a missing value too (it says what to do). */
export function literal<const L extends string | number>(expected: L, error?: string): Shape<L> {
  if (error === undefined) return rule((value) => value === expected, `must be ${JSON.stringify(expected)}`);
  return {
    read(value, key, problems) {
      if (value !== expected) problems.push(`${where(key)}: ${error}`);
      return value as L;
    },
  };
}

export function oneOf<const V extends readonly string[]>(values: V): Shape<V[number]> {
  return rule((value) => values.includes(value as string), `must be one of ${values.join(", ")}`);
}

export function number(): Shape<number> {
  return rule((value) => typeof value === "number" && Number.isFinite(value), "must be a number");
}

export function integer(options: { min?: number } = {}): Shape<number> {
  const { min = Number.MIN_SAFE_INTEGER } = options;
  return rule(
    (value) => Number.isSafeInteger(value) && (value as number) >= min,
    options.min === undefined ? "must be a whole number" : `must be a whole number of at least ${min}`,
  );
}

/** An ISO 8601 date and time; in UTC ("Z") unless `offset` allows "+02:00" too. */
export function isoTime(options: { offset?: boolean; error: string }): Shape<string> {
  const zone = options.offset ? "(Z|[+-]\\d{2}:\\d{2})" : "Z";
  const pattern = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?${zone}$`);
  return rule(
    (value) => typeof value === "string" && pattern.test(value) && !Number.isNaN(Date.parse(value)),
    options.error,
  );
}

/** Any value, or none. */
export const anything: Shape<unknown> = { read: (value) => value };

export function optional<T>(shape: Shape<T>): Shape<T | undefined> & { readonly optional: true } {
  return {
    optional: true,
    read: (value, key, problems) => (value === undefined ? undefined : shape.read(value, key, problems)),
  };
}

export function withDefault<T>(shape: Shape<T>, fallback: () => NoInfer<T>): Shape<T> {
  return {
    read: (value, key, problems) => (value === undefined ? fallback() : shape.read(value, key, problems)),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function array<T>(item: Shape<T>, options: { minLength?: number } = {}): Shape<T[]> {
  const { minLength = 0 } = options;
  return {
    read(value, key, problems) {
      if (value === undefined) problems.push(`${where(key)}: is required`);
      else if (!Array.isArray(value)) problems.push(`${where(key)}: must be an array`);
      else if (value.length < minLength)
        problems.push(`${where(key)}: must hold at least ${minLength} item(s)`);
      else return value.map((entry, index) => item.read(entry, `${key}[${index}]`, problems));
      return value as T[];
    },
  };
}

/** An object whose every value has `shape`, whatever its keys. */
export function record<T>(shape: Shape<T>): Shape<Record<string, T>> {
  return {
    read(value, key, problems) {
      if (value === undefined) problems.push(`${where(key)}: is required`);
      else if (!isRecord(value)) problems.push(`${where(key)}: must be an object`);
      else {
        return Object.fromEntries(
          Object.entries(value).map(([name, entry]) => [name, shape.read(entry, join(key, name), problems)]),
        );
      }
      return value as Record<string, T>;
    },
  };
}

/** An object with these fields; others are allowed (AWS adds fields) and left out of the result. */
export function object<F extends Fields>(fields: F): Shape<ObjectOf<F>> {
  return {
    read(value, key, problems) {
      if (value === undefined) problems.push(`${where(key)}: is required`);
      else if (!isRecord(value)) problems.push(`${where(key)}: must be an object`);
      else {
        const read: Record<string, unknown> = {};
        for (const [name, shape] of Object.entries(fields)) {
          const entry = shape.read(value[name], join(key, name), problems);
          if (entry !== undefined) read[name] = entry;
        }
        return read as ObjectOf<F>;
      }
      return value as ObjectOf<F>;
    },
  };
}

function join(key: string, name: string): string {
  return key === "" ? name : `${key}.${name}`;
}

/** The problems of `value` against `shape` (none: it fits), and what the shape read. */
export function checkShape<T>(shape: Shape<T>, value: unknown): { value: T; problems: string[] } {
  const problems: string[] = [];
  return { value: shape.read(value, "", problems), problems };
}
