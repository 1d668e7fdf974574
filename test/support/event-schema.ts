import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import formatsModule from "ajv-formats";

/** The published schema, read from disk as consumers read it. */
export const EVENT_SCHEMA: object = JSON.parse(
  readFileSync(new URL("../../schemas/events.v1.json", import.meta.url), "utf8"),
);

// ajv-formats is CommonJS: depending on the loader, the plugin is the default import or its `default`.
type FormatsPlugin = typeof formatsModule.default;
const addFormats: FormatsPlugin =
  (formatsModule as unknown as { default?: FormatsPlugin }).default ??
  (formatsModule as unknown as FormatsPlugin);

// Strict mode catches misspelt keywords in the schema; conditional `required` lists
// name properties declared one level up, which strictRequired cannot see.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);

export const validateEvent = ajv.compile(EVENT_SCHEMA);

/** Validates against schemas/events.v1.json; returns the errors as readable lines (empty when valid). */
export function schemaErrors(event: unknown): string[] {
  if (validateEvent(event)) return [];
  return (validateEvent.errors ?? []).map(
    (error: ErrorObject) => `${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`,
  );
}
