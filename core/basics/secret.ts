import { inspect } from "node:util";

/**
 * A value that must never reach a log, an error message or JSON output. Every way of
 * turning it into text yields "[redacted]"; only `reveal()` gives the value, at the one
 * place that sends it to a server.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [inspect.custom](): string {
    return "[redacted]";
  }
}
