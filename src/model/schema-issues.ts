import type * as z from "./zod";

/**
 * One line per problem, each starting with the path of what is wrong
 * (`RULES[2].command.type: ...`, `event.data.id: ...`): never a raw Zod dump, and never
 * the offending value itself, which may be a secret or part of a payload.
 */
export function formatIssues(error: z.core.$ZodError, root = ""): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${formatPath(root, issue.path)}: ${issue.message}`)
    .join("; ");
}

export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(body)";
}
