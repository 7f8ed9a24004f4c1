// Fails when the relay's bundle grows past its budget: every byte shipped is parsed at each
// cold start. Measures what `wrangler deploy` would upload, gzipped at level 9.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

// Kept libraries for security code (JWT checks, parsers) are worth their bytes; the startup
// cost they bring is measured in `npm run bench` rather than traded against.
const BUDGET_BYTES = 128 * 1024;

const outdir = mkdtempSync(join(tmpdir(), "relay-bundle-"));
try {
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], { stdio: ["ignore", "ignore", "inherit"] });
  const code = readFileSync(join(outdir, "index.js"));
  const gzipped = gzipSync(code, { level: 9 }).length;
  const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  const line = `bundle: ${kib(code.length)}, ${kib(gzipped)} gzipped (budget ${kib(BUDGET_BYTES)} gzipped)`;
  if (gzipped > BUDGET_BYTES) {
    console.error(`${line}: over budget. See which packages grew with \`npm run bench\` (bundle parts).`);
    process.exitCode = 1;
  } else {
    console.log(line);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
