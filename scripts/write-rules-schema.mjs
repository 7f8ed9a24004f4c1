// Writes schema/rules.schema.json from the Zod schema in src/config/rules-schema.ts.
// The TypeScript is bundled with esbuild first, so this runs on plain Node.
import { build } from "esbuild";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = await mkdtemp(join(tmpdir(), "rules-schema-"));
try {
  const outfile = join(dir, "rules-json-schema.mjs");
  await build({ entryPoints: ["src/config/rules-json-schema.ts"], bundle: true, format: "esm", platform: "neutral", outfile, logLevel: "error" });
  const { rulesJsonSchema } = await import(pathToFileURL(outfile).href);
  await writeFile("schema/rules.schema.json", `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`);
  console.log("wrote schema/rules.schema.json");
} finally {
  await rm(dir, { recursive: true, force: true });
}
