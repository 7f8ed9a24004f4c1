/**
 * An issue as Zod reports it, and as any Standard Schema validator does (where a path
 * segment may be `{ key }`): what Hono's validator middleware hands its hook.
 * @see https://standardschema.dev
 */
export interface SchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/**
 * One line per problem, each starting with the path of what is wrong
 * (`RULES[2].command.type: ...`, `event.data.id: ...`): never a raw Zod dump, and never
 * the offending value itself, which may be a secret or part of a payload. Takes a ZodError,
 * or a validator's `{ issues }`.
 */
export function formatIssues(error: { readonly issues: readonly SchemaIssue[] }, root = ""): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${formatPath(root, issue.path ?? [])}: ${issue.message}`)
    .join("; ");
}

function formatPath(root: string, path: NonNullable<SchemaIssue["path"]>): string {
  let out = root;
  for (const segment of path) {
    const part = typeof segment === "object" ? segment.key : segment;
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(body)";
}
