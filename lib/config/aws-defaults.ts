import { deployConfigSchema } from "../../core/config/schema.ts";

/**
 * The `aws` block as the schema fills it in when the block is left out: the schema's own
 * defaults, so the stack never drifts from what the config file documents.
 */
export const AWS_DEFAULTS = deployConfigSchema.shape.aws.unwrap().parse({});
