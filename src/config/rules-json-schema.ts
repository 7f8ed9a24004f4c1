import * as z from "../model/zod";
import { RulesSchema } from "./rules-schema";

/**
 * The JSON Schema of `RULES`, generated from the Zod schema the relay validates with, for
 * editors (`schema/rules.schema.json`). Not imported by the Worker.
 */
export function rulesJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RulesSchema, { io: "input", unrepresentable: "any" }),
    title: "dex-alert-relay RULES",
  };
}
