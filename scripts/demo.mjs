// `npm run demo -- <source>`: sends the sample alert of examples/<source>.json to the relay
// that `npm start` runs, signed or authenticated exactly as that tool does it, with the local
// secrets of .dev.vars (else dev/local.dev.vars). Every run is a new alert (fresh ids and
// times); `--dry-run` asks what the relay would do instead, with the operator's token.
// `pagerduty-action` sends examples/actions/pagerduty.json as a PagerDuty Incident Workflow's
// web request asks for a capture on demand (not part of `all`).
//
//   npm run demo -- pagerduty            npm run demo -- grafana --dry-run
//   npm run demo -- all                  npm run demo -- zapier --url http://localhost:8787
//   npm run demo -- pagerduty-action
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, parseEnv } from "node:util";
import { fleetLaptops, groupOf } from "./fleet-group.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const examples = join(root, "examples");
/** Requests for a capture on demand, by name: what they send and how they authenticate. */
const ACTIONS = {
  // The action's secret as a bearer token, as the workflow's Web API integration sends it.
  "pagerduty-action": { file: "actions/pagerduty.json", path: "/v1/actions/pagerduty", auth: () => bearer("PAGERDUTY_ACTION_SECRET") },
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string", default: "http://localhost:8787" },
    "dry-run": { type: "boolean", default: false },
    // `group`: how many laptops of the stand-in's fleet the Alertmanager group names, and where the stand-in is.
    alerts: { type: "string", default: "25" },
    "stand-in": { type: "string", default: "http://127.0.0.1:8788/" },
  },
});

const varsFile = [".dev.vars", "dev/local.dev.vars"].map((name) => join(root, name)).find(existsSync);
const vars = varsFile ? parseEnv(readFileSync(varsFile, "utf8")) : {};
/** The first of a comma-separated list of secrets (several are set during a rotation). */
const secret = (name) => {
  const value = (vars[name] ?? "").split(",")[0].trim();
  if (!value) throw new Error(`${name} is not set in ${varsFile ?? ".dev.vars"}: the relay would refuse this source`);
  return value;
};
const hmacHex = (key, text) => createHmac("sha256", key).update(text).digest("hex");
const bearer = (name) => ({ authorization: `Bearer ${secret(name)}` });

/** The body of examples/<file>, with fresh ids and times: each run is a new alert. */
function sampleBody(file) {
  const now = new Date();
  const id = randomUUID();
  const fill = {
    id,
    short: id.slice(0, 8).toUpperCase(),
    now: now.toISOString(),
    epoch: String(Math.floor(now.getTime() / 1000)),
    epoch_ms: String(now.getTime()),
  };
  return readFileSync(join(examples, file), "utf8").replace(/\{\{(\w+)\}\}/g, (_, name) => fill[name]);
}

/** How each tool authenticates a delivery (README: "Point your tools at it"). */
const AUTH = {
  // HMAC-SHA256 of the raw body, lower-case hex, as `v1=<hex>`; X-Webhook-Id names the delivery.
  pagerduty: (body) => ({ "x-pagerduty-signature": `v1=${hmacHex(secret("PAGERDUTY_WEBHOOK_SECRET"), body)}`, "x-webhook-id": randomUUID() }),
  zapier: () => bearer("ZAPIER_TOKEN"),
  alertmanager: () => bearer("ALERTMANAGER_TOKEN"),
  datadog: () => bearer("DATADOG_TOKEN"),
  // HMAC-SHA256, lower-case hex, of "<timestamp>:<body>" when a timestamp header is configured
  // (the timestamp in Unix seconds, in that header), else of the body alone.
  grafana: (body) => {
    const header = (vars.GRAFANA_TIMESTAMP_HEADER ?? "").trim();
    if (!header) return { "x-grafana-alerting-signature": hmacHex(secret("GRAFANA_WEBHOOK_SECRET"), body) };
    const timestamp = String(Math.floor(Date.now() / 1000));
    return { [header]: timestamp, "x-grafana-alerting-signature": hmacHex(secret("GRAFANA_WEBHOOK_SECRET"), `${timestamp}:${body}`) };
  },
  // Standard Webhooks: base64 HMAC-SHA256, under the base64 key after `whsec_`, of "{id}.{timestamp}.{body}".
  webhook: (body) => {
    const id = `msg_${randomUUID().replaceAll("-", "")}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const key = Buffer.from(secret("WEBHOOK_SECRET").replace(/^whsec_/, ""), "base64");
    const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
    return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
  },
  // The destination's secret, as is.
  cloudflare: () => ({ "cf-webhook-auth": secret("CLOUDFLARE_NOTIFICATIONS_SECRET") }),
};

/** The sample alert of each source in examples/ (the folder also holds the Grafana dashboard, which is none). */
const SOURCES = readdirSync(examples)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -".json".length))
  .filter((name) => Object.hasOwn(AUTH, name))
  .sort();
const [asked] = positionals;
const GROUP = "group";
if (
  !asked ||
  (asked !== "all" && asked !== GROUP && !SOURCES.includes(asked) && !ACTIONS[asked]) ||
  ((ACTIONS[asked] || asked === GROUP) && values["dry-run"])
) {
  console.error(`usage: npm run demo -- <${SOURCES.join("|")}|all> [--dry-run] [--url ${values.url}]`);
  console.error(`       npm run demo -- <${Object.keys(ACTIONS).join("|")}> [--url ${values.url}]`);
  console.error(`       npm run demo -- ${GROUP} [--alerts 25] (with STAND_IN_FLEET=2000 npm start)`);
  process.exit(2);
}

/**
 * One Alertmanager group of `--alerts` firing, critical alerts, each naming a laptop of the
 * stand-in's generated fleet by host name: what a big incident looks like to the relay.
 */
async function sendGroup() {
  const count = Number(values.alerts);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--alerts must be a whole number of alerts, not ${values.alerts}`);
  const standIn = { url: values["stand-in"].replace(/\/*$/, "/") };
  let laptops;
  try {
    laptops = await fleetLaptops(standIn, secret("DEX_API_TOKEN"), count);
  } catch (error) {
    throw new Error(`${error.message}: start the relay with a fleet, \`STAND_IN_FLEET=2000 npm start\``);
  }
  const body = JSON.stringify(groupOf(laptops, randomUUID().slice(0, 8)));
  const res = await fetch(`${values.url.replace(/\/+$/, "")}/v1/alerts/alertmanager`, {
    method: "POST",
    headers: { "content-type": "application/json", ...AUTH.alertmanager() },
    body,
  });
  console.log(`group of ${count}: HTTP ${res.status} ${await res.text()}`);
}

async function send(source) {
  const action = ACTIONS[source];
  const body = sampleBody(action?.file ?? `${source}.json`);
  const headers = { "content-type": "application/json", ...(action ? action.auth() : AUTH[source](body)) };
  if (values["dry-run"]) headers["x-relay-admin-token"] = secret("ADMIN_TOKEN");
  const path = action?.path ?? `/v1/alerts/${source}${values["dry-run"] ? "?dry_run=true" : ""}`;
  const url = `${values.url.replace(/\/+$/, "")}${path}`;
  let res;
  try {
    res = await fetch(url, { method: "POST", headers, body });
  } catch {
    throw new Error(`nothing answers at ${values.url}: start the relay with \`npm start\` first`);
  }
  console.log(`${source}: HTTP ${res.status} ${await res.text()}`);
}

try {
  if (asked === GROUP) await sendGroup();
  else for (const source of asked === "all" ? SOURCES : [asked]) await send(source);
  if (!values["dry-run"]) {
    console.log("Commands land on the local DEX stand-in within a few seconds: curl -s localhost:8788/");
  }
} catch (error) {
  console.error(`demo: ${error.message}`);
  process.exit(1);
}
