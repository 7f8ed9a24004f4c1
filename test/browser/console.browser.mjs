// `npm run test:browser`: the operator console in a real browser. Starts the relay under
// `wrangler dev` (local KV, queues and ledger, fresh state), a stand-in Cloudflare Access
// team that publishes a signing key, and — after one delivery has been dead-lettered while
// the DEX API was unreachable — the DEX API stand-in. Then headless Chromium (Debian's
// `chromium`, driven by playwright-core) signs in with an Access cookie, uses the filters,
// approves a capture that waits for a person, runs the rule tester, replays the dead letter and
// waits for a download link. Screenshots go to
// test/browser/screenshots/. Exits non-zero on the first failure; every wait is bounded.
import { createSign, generateKeyPairSync, createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";
import { experimental_readRawConfig } from "wrangler";
import { childEnv, freePorts, killAllNow, logTail, root, startWrangler, stopServers } from "../../bench/servers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
/** The whole run, servers included, must end within this. */
const RUN_TIMEOUT_MS = 6 * 60_000;
/** Any single browser action or wait for the page. */
const STEP_TIMEOUT_MS = 20_000;
/** Waiting for the queue consumers (local queue batches wait up to 5 s). */
const CONSUMER_TIMEOUT_MS = 60_000;
const AUDIENCE = "browser-test-aud";
const ADMIN = { authorization: "Bearer local-admin-token" };
/** JANE-MBP, as the DEX stand-in seeds it. */
const JANE_DEVICE = "3f6c2a1e-7b4d-4e8a-9c1f-5d2b8e7a6c01";
const shots = join(root, "test", "browser", "screenshots");

const runDir = mkdtempSync(join(tmpdir(), "dex-relay-browser-"));
const watchdog = setTimeout(() => fail(new Error(`the run took longer than ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
const servers = [];
let access;
let browser;

try {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(shots, { recursive: true });
  const [relayPort, dexPort, accessPort, inspectRelay, inspectDex] = await freePorts(5);
  const relayUrl = `http://127.0.0.1:${relayPort}`;
  access = await startAccessTeam(accessPort);

  const relay = await startRelay(relayPort, inspectRelay, {
    DEX_API_BASE: `http://127.0.0.1:${dexPort}/client/v4`,
    ACCESS_TEAM_DOMAIN: access.url,
    ACCESS_AUD: AUDIENCE,
    RELAY_PUBLIC_URL: relayUrl,
  });
  servers.push(relay);
  step("relay started");

  // The DEX API is not there yet: this delivery's device lookup fails, and with no retries
  // left (this run's queue allows none) it goes to the dead-letter queue.
  // About a user no other seeded alert names: the rules' cooldowns do not hold its replay back.
  const dead = await postZapier(relayUrl, { id: "BROWSER-DEAD-1", title: "VPN packet loss", severity: "critical", user_email: "priya.shah@example.com" });
  const [letter] = await waitFor("the dead letter", async () => (await api(relayUrl, "/v1/dead-letters")).dead_letters.filter((d) => d.delivery_id === dead));
  step(`dead-lettered ${letter.id}: ${letter.reason}`);

  servers.push(await startDexStandIn(dexPort, inspectDex));
  step("DEX API stand-in started");
  await postZapier(relayUrl, {
    id: "BROWSER-1",
    title: "VPN dropping packets for jane.doe@example.com",
    severity: "critical",
    user_email: "jane.doe@example.com",
  });
  await postZapier(relayUrl, { id: "BROWSER-2", title: "Video calls keep freezing", severity: "critical", user_email: "sam.lee@example.com" });
  await postZapier(relayUrl, { id: "BROWSER-3", title: "Slow uploads", check: "bandwidth", hostname: "BUILD-LINUX-07" });
  await postZapier(relayUrl, { id: "BROWSER-4", title: "Printer offline", severity: "info", user_email: "sam.lee@example.com" });
  await postPagerDuty(relayUrl);
  await waitFor("six recorded deliveries", async () => {
    const { deliveries } = await api(relayUrl, "/v1/deliveries?limit=50");
    return deliveries.length >= 6 && deliveries.every((d) => d.state !== "retrying") ? deliveries : undefined;
  });
  step("seeded six deliveries");

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: STEP_TIMEOUT_MS });

  // Without Access' cookie the console is refused.
  const stranger = await browser.newContext();
  const refused = await (await stranger.newPage()).goto(`${relayUrl}/console`);
  check(refused.status() === 401, `the console answered ${refused.status()} without a cookie`);
  await stranger.close();

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: "CF_Authorization", value: access.token({ email: "oncall@example.com" }), url: relayUrl }]);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);

  await page.goto(`${relayUrl}/console`);
  await page.locator("h1", { hasText: "dex-alert-relay console" }).waitFor();
  check((await page.locator("header").innerText()).includes("oncall@example.com"), "the console does not show who signed in");
  check((await page.locator("tr.delivery").count()) === 6, `expected 6 deliveries, saw ${await page.locator("tr.delivery").count()}`);
  check((await page.locator("tr.command").count()) >= 4, "expected at least four commands");
  check((await page.locator("#health").innerText()).includes("sound"), "the configuration is not reported sound");
  await page.screenshot({ path: join(shots, "console.png"), fullPage: true });
  step("console loaded");

  // Approval: the shipped pcap rule holds Jane's capture for a person; nothing reached the DEX API.
  check(!(await dexCommands(dexPort)).some((c) => c.type === "pcap"), "a pcap was sent before anyone approved it");
  const pending = page.locator("tr.approval", { hasText: "JANE-MBP" });
  check((await pending.count()) === 1, `captures awaiting approval for JANE-MBP: ${await pending.count()}`);
  await page.locator("#approvals").screenshot({ path: join(shots, "approvals.png") });
  await Promise.all([page.waitForURL(/approval=approved/), pending.locator("button", { hasText: "Approve" }).click()]);
  check((await page.locator("#notice").innerText()).includes("Approved"), "the console does not say the capture was approved");
  // The ledger's alarm sends it; the commands list says who approved it.
  const approvedRow = await waitFor("the approved capture", async () => {
    await page.goto(`${relayUrl}/console?device=JANE-MBP&status=created`);
    const rows = await page.locator("tr.command", { hasText: "pcap" }).allInnerTexts();
    return rows.length === 1 && rows[0].includes("approved by oncall@example.com (console)") ? rows[0] : undefined;
  });
  check(
    (await dexCommands(dexPort)).filter((c) => c.type === "pcap" && c.device_id === JANE_DEVICE).length === 1,
    "the approved pcap did not reach the DEX API once",
  );
  const approval = (await api(relayUrl, "/v1/commands?status=created")).commands.find((c) => c.type === "pcap")?.approval;
  check(
    approval?.state === "approved" && approval.by === "oncall@example.com" && approval.via === "console",
    `the audit trail's approval: ${JSON.stringify(approval)}`,
  );
  await page.screenshot({ path: join(shots, "console-approved.png"), fullPage: true });
  step(`approved a capture in the console: ${approvedRow.replace(/\s+/g, " ").slice(0, 120)}`);
  await page.goto(`${relayUrl}/console`);

  // Filters: the form puts them in the URL, and the lists follow them.
  await page.selectOption('select[name="source"]', "zapier");
  await page.selectOption('select[name="outcome"]', "created");
  await Promise.all([page.waitForURL(/outcome=created/), page.click('#filters button[type="submit"]')]);
  check(page.url().includes("source=zapier"), `the filters are not in the URL: ${page.url()}`);
  const filtered = await page.locator("tr.delivery").allInnerTexts();
  check(filtered.length === 3 && filtered.every((row) => row.includes("created") && row.includes("zapier")), `filtered deliveries: ${filtered.length}`);
  await page.screenshot({ path: join(shots, "console-filtered.png"), fullPage: true });
  // A device link narrows both lists to that device, and the URL can be shared.
  await page.goto(`${relayUrl}/console?device=JANE-MBP&status=created`);
  const commands = await page.locator("tr.command").allInnerTexts();
  check(commands.length >= 2 && commands.every((row) => row.includes("JANE-MBP")), `commands for JANE-MBP: ${commands.length}`);
  const janes = await page.locator("tr.delivery").count();
  check(janes === 2, `deliveries about JANE-MBP: ${janes}`);
  step("filters work");

  // Rule tester: a warning about video calls matches no rule, and says which condition failed.
  await page.goto(`${relayUrl}/console`);
  await page.selectOption('#rule-tester select[name="source"]', "zapier");
  await page.fill(
    'textarea[name="payload"]',
    JSON.stringify({ id: "TRY-1", title: "Video calls keep freezing", severity: "warning", user_email: "sam.lee@example.com" }),
  );
  await Promise.all([page.waitForURL(/\/console\/rules\/test$/), page.click('#rule-tester button[type="submit"]')]);
  const verdicts = await page.locator("#tester-result").innerText();
  check(/vpn-packet-loss-pcap\s+severity: expected one of critical, error, got warning/.test(verdicts), `tester verdicts:\n${verdicts}`);
  check(/bandwidth-speed-test\s+label check: expected = bandwidth, got nothing/.test(verdicts), `tester verdicts:\n${verdicts}`);
  check(verdicts.includes("no-rule"), "the tester shows no decision");
  await page.locator("#rule-tester").screenshot({ path: join(shots, "rule-tester.png") });
  step("rule tester works");

  // Capture on demand: the form asks for a pcap on Sam's laptop as the operator signed in, then
  // shows the request's delivery, which the consumer turns into a command within seconds.
  await page.goto(`${relayUrl}/console`);
  await page.selectOption('#capture select[name="rule"]', "pcap-on-demand");
  await page.fill('#capture input[name="user_email"]', "sam.lee@example.com");
  await Promise.all([page.waitForURL(/requested=/), page.click('#capture button[type="submit"]')]);
  const requested = new URL(page.url()).searchParams.get("requested");
  check((await page.locator("#notice").innerText()).includes(requested), "the console does not name the request's delivery");
  const asked = await waitFor("the capture's delivery", async () => {
    await page.goto(`${relayUrl}/console?source=operator`);
    const rows = await page.locator("tr.delivery", { hasText: requested }).allInnerTexts();
    return rows.length === 1 && rows[0].includes("created") ? rows[0] : undefined;
  });
  check(asked.includes("asked for by oncall@example.com (console)"), `the capture's delivery:\n${asked}`);
  await page.locator("#capture").screenshot({ path: join(shots, "capture-form.png") });
  step("capture on demand works");

  // Replay: the dead letter goes through again, now that the DEX API answers.
  await page.goto(`${relayUrl}/console#dead-letters`);
  const row = page.locator("tr.dead-letter", { hasText: dead });
  await Promise.all([page.waitForURL(/replayed=/), row.locator("button", { hasText: "Replay" }).click()]);
  await page.locator("#notice").waitFor();
  check((await page.locator("tr.dead-letter", { hasText: dead }).innerText()).includes("replayed"), "the dead letter is not marked replayed");
  await waitFor("the replayed delivery's commands", async () => {
    await page.goto(`${relayUrl}/console?outcome=created`);
    const rows = await page.locator("tr.delivery", { hasText: dead }).allInnerTexts();
    return rows.length === 1 && rows[0].includes("in-progress") ? rows : undefined;
  });
  await page.screenshot({ path: join(shots, "console-replayed.png"), fullPage: true });
  const replayed = await api(relayUrl, `/v1/deliveries/${dead}`);
  // Priya's build machine gets the warp-diag; its pcap waits for approval like any other.
  const outcomes = replayed.decisions.map((d) => `${d.rule}:${d.outcome}`).sort();
  check(outcomes.join() === "vpn-packet-loss-pcap:awaiting-approval,warp-diag-on-critical:created", `replayed decisions: ${outcomes}`);
  step("replay works");

  // A second replay creates nothing: the ledger answers what it already holds.
  const before = await commandCount(dexPort);
  const again = await fetch(`${relayUrl}/v1/dead-letters/${letter.id}/replay`, { method: "POST", headers: ADMIN });
  check(again.status === 202, `second replay answered ${again.status}`);
  await sleep(8_000);
  check((await commandCount(dexPort)) === before, "a second replay created commands");
  step("a second replay created nothing");

  // Download links: the stand-in finishes a capture 20 s after its create, with a file; the
  // ledger reads statuses every 20 s. The link goes through the relay, which holds the token.
  const link = await waitFor(
    "a finished capture's download link",
    async () => {
      await page.goto(`${relayUrl}/console?status=SUCCESS`);
      const anchors = page.locator("tr.command a[href*='/download']");
      return (await anchors.count()) > 0 ? anchors.first().getAttribute("href") : undefined;
    },
    120_000,
  );
  check(/^http:\/\/127\.0\.0\.1:\d+\/v1\/commands\/[\w-]+\/download$/.test(link), `download link: ${link}`);
  await page.goto(`${relayUrl}/console`);
  await page.screenshot({ path: join(shots, "console-artifacts.png"), fullPage: true });
  step("download links shown");

  // Readable on a phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  await phone.addCookies([{ name: "CF_Authorization", value: access.token({ email: "oncall@example.com" }), url: relayUrl }]);
  const small = await phone.newPage();
  await small.goto(`${relayUrl}/console`);
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the page is ${overflow}px wider than a phone's screen`);
  await small.screenshot({ path: join(shots, "console-phone.png") });
  step("readable on a phone");

  console.log(`browser test: 9 passed, 0 failed; screenshots in ${shots}`);
  await finish(0);
} catch (error) {
  await fail(error);
}

async function finish(code) {
  clearTimeout(watchdog);
  await browser?.close().catch(() => undefined);
  await stopServers(servers).catch(() => killAllNow());
  access?.server.close();
  rmSync(runDir, { recursive: true, force: true });
  process.exit(code);
}

async function fail(error) {
  console.error(`browser test failed: ${error instanceof Error ? error.stack : error}`);
  for (const server of servers) console.error(`${server.label} log:\n${logTail(server, 40)}`);
  await finish(1);
}

function step(message) {
  console.log(`browser test: ${message}`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Polls `probe` until it returns something truthy, for at most `timeoutMs`. */
async function waitFor(what, probe, timeoutMs = CONSUMER_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value && (!Array.isArray(value) || value.length > 0)) return value;
    } catch (error) {
      last = error;
    }
    await sleep(1_000);
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

async function api(relayUrl, path) {
  const res = await fetch(`${relayUrl}${path}`, { headers: ADMIN, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
  return res.json();
}

async function dexCommands(dexPort) {
  const res = await fetch(`http://127.0.0.1:${dexPort}/`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()).commands;
}

async function commandCount(dexPort) {
  return (await dexCommands(dexPort)).length;
}

async function postZapier(relayUrl, fields) {
  const res = await fetch(`${relayUrl}/v1/alerts/zapier`, {
    method: "POST",
    headers: { authorization: "Bearer local-zapier-token", "content-type": "application/json" },
    body: JSON.stringify(fields),
    signal: AbortSignal.timeout(10_000),
  });
  check(res.status === 202, `Zapier alert answered ${res.status}`);
  return (await res.json()).delivery_id;
}

async function postPagerDuty(relayUrl) {
  const body = JSON.stringify({
    event: {
      id: "01BROWSER0000000000000001",
      event_type: "incident.triggered",
      resource_type: "incident",
      occurred_at: new Date().toISOString(),
      data: {
        id: "QBROWSER01",
        type: "incident",
        title: "VPN packet loss above 8% for jane.doe@example.com",
        urgency: "high",
        priority: { summary: "P1" },
        service: { summary: "Corporate VPN" },
      },
    },
  });
  const signature = createHmac("sha256", "local-pagerduty-secret").update(body).digest("hex");
  const res = await fetch(`${relayUrl}/v1/alerts/pagerduty`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-pagerduty-signature": `v1=${signature}`, "x-webhook-id": "browser-webhook-1" },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  check(res.status === 202, `PagerDuty alert answered ${res.status}`);
}

/** The relay, from a copy of wrangler.jsonc whose alert queue dead-letters after the first failed attempt. */
function startRelay(port, inspectorPort, vars) {
  const { rawConfig } = experimental_readRawConfig({ config: join(root, "wrangler.jsonc") });
  const alerts = rawConfig.queues?.consumers?.find((consumer) => consumer.queue === "dex-alert-relay-alerts");
  check(alerts !== undefined && rawConfig.main === "src/index.ts", "could not adapt wrangler.jsonc for the run");
  const consumers = rawConfig.queues.consumers.map((consumer) => (consumer === alerts ? { ...consumer, max_retries: 0 } : consumer));
  const config = { ...rawConfig, main: join(root, "src", "index.ts"), queues: { ...rawConfig.queues, consumers } };
  const path = join(runDir, "wrangler.jsonc");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return dev("relay", path, port, inspectorPort, vars);
}

function startDexStandIn(port, inspectorPort) {
  return dev("dex-api", join(root, "dev", "dex-stand-in", "wrangler.toml"), port, inspectorPort, {});
}

function dev(label, config, port, inspectorPort, vars) {
  return startWrangler({
    label,
    url: `http://127.0.0.1:${port}/`,
    logPath: join(runDir, `${label}.log`),
    env: childEnv(Object.keys(vars), runDir),
    registryDir: join(runDir, "registry", label),
    args: [
      "dev",
      "--config",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      join(runDir, "state", label),
      // The local test values, as `npm start` uses them; the run's own values over them.
      "--env-file",
      join(root, "dev", "local.dev.vars"),
      "--show-interactive-dev-session=false",
      ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
    ],
  });
}

/** A stand-in Access team: publishes one RSA key at /cdn-cgi/access/certs and signs tokens with it. */
async function startAccessTeam(port) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "browser-test-key";
  const url = `http://127.0.0.1:${port}`;
  const certs = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] });
  const server = createServer((req, res) => {
    if (req.url === "/cdn-cgi/access/certs") res.writeHead(200, { "content-type": "application/json" }).end(certs);
    else res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const token = (claims) => {
    const now = Math.floor(Date.now() / 1000);
    const signed = `${encode({ alg: "RS256", kid, typ: "JWT" })}.${encode({ aud: [AUDIENCE], iss: url, sub: "browser-test", iat: now, nbf: now, exp: now + 3600, ...claims })}`;
    return `${signed}.${createSign("RSA-SHA256").update(signed).sign(privateKey).toString("base64url")}`;
  };
  return { url, server, token };
}
