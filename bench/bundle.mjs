// The size of what `wrangler deploy` would upload, and which packages make it up.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { root } from "./servers.mjs";

/**
 * Size of the relay's bundle as `wrangler deploy --dry-run` wrote it (so with wrangler.jsonc's
 * `minify` setting), raw and gzipped at level 9 (`gzip -9`).
 */
export async function measureBundle(bundlePath, minify) {
  const code = readFileSync(bundlePath);
  return { minify, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, parts: await bundleParts(minify) };
}

/**
 * Bytes each package (and the relay's own code) contributes to the bundle, from an esbuild
 * metafile. esbuild is what wrangler bundles with; the total differs from wrangler's by the
 * few wrappers wrangler adds.
 */
async function bundleParts(minify) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["src/index.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    minify,
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  const [output] = Object.values(result.metafile.outputs);
  const parts = {};
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
    const part = pkg ?? "relay code (src/)";
    parts[part] = (parts[part] ?? 0) + bytesInOutput;
  }
  return Object.entries(parts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, bytes]) => ({ name, bytes }));
}
