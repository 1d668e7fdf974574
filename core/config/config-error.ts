/** The configuration is unusable; `problems` has one line per problem, each naming its key. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly source: string,
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  - ${p}`).join("\n")}`, options);
  }
}
