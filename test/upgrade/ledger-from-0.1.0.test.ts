import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { CommandLedger } from "../../src/ledger/command-ledger";
import { LEDGER_MIGRATIONS } from "../../src/ledger/migrations";
import releaseOneLedger from "../fixtures/release-0.1.0/ledger.sql?raw";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, currentDelivery, holdLedgerClock, ledger } from "../helpers/ledger";
import { PAGERDUTY_API, postIncident, reportsSettled, REPORTING, RESULT_WEBHOOK, runReportingConsumer, SLACK_HOOK } from "../helpers/reports";
import { isolateEachTest } from "../helpers/relay";

/** The incidents the fixture's ledger knows: Jane's, finished and reported; Sam's, created a moment before. */
const JANES_INCIDENT = "Q2Y4RWZ6E8TJ1K";
const SAMS_INCIDENT = "P7KQ1ZC3N0XW2D";
/** Sam's two commands, still PENDING_EXEC on his laptop when 0.1.0 last wrote the ledger. */
const SAMS_COMMANDS = [
  { id: "5e70e816-4f14-4b75-af2c-788aa08515dc", type: "pcap" },
  { id: "a828d24e-1b3a-463e-9615-0ceeacf72a80", type: "warp-diag" },
] as const;
/** Jane's Zapier alert whose create 0.1.0 saw fail: the rule it came through. */
const JANES_RETRY_RULE = "warp-diag-on-critical";

/** The DEX API (holding Sam's two commands, as it would) and the three report receivers, all answering 2xx. */
function world(t0: number) {
  const api = mockDexApi([JANE, SAM], {
    [`POST ${PAGERDUTY_API}/incidents/${SAMS_INCIDENT}/notes`]: () => Response.json({ note: { id: "PWL7QXS" } }, { status: 201 }),
    [`POST ${PAGERDUTY_API}/incidents/${JANES_INCIDENT}/notes`]: () => Response.json({ note: { id: "PWL7QXT" } }, { status: 201 }),
    [`POST ${SLACK_HOOK}`]: () => new Response("ok"),
    [`POST ${RESULT_WEBHOOK}`]: () => new Response(null, { status: 204 }),
  });
  for (const { id, type } of SAMS_COMMANDS) {
    api.createdElsewhere({
      id,
      type,
      status: "PENDING_EXEC",
      created_date: new Date(t0).toISOString(),
      device_id: SAM.deviceId,
      registration_id: SAM.registrationId!,
      user_email: SAM.personEmail!,
    });
  }
  const sent = (key: string) => Promise.all(api.otherCalls.filter((call) => `${call.method} ${call.url}` === key).map((call) => call.text()));
  return {
    api,
    notesOn: (incident: string) => sent(`POST ${PAGERDUTY_API}/incidents/${incident}/notes`),
    slack: () => sent(`POST ${SLACK_HOOK}`),
    webhooks: () => sent(`POST ${RESULT_WEBHOOK}`),
  };
}

/**
 * Puts release 0.1.0's database in the account's ledger, then starts the ledger over it as
 * this release does after a deploy: the constructor migrates before anything else runs. The
 * deploy's configuration has every report channel on; the ledger's alarm comes before any
 * call from the relay, so it reads that configuration from its own bindings.
 */
async function upgradeFromReleaseOne(t0: number) {
  return runInDurableObject(ledger(), async (_, state) => {
    const { sql } = state.storage;
    const tables = sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      )
      .toArray();
    for (const { name } of tables) sql.exec(`DROP TABLE ${name}`);
    sql.exec(releaseOneLedger.replaceAll("$T0", String(t0)));
    // The alarm 0.1.0 had set for its pending reports: a deploy keeps it.
    await state.storage.setAlarm(t0);
    const before = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'schema_migrations'").one().n;
    const upgraded = new CommandLedger(state, { ...env, ...REPORTING } as Env);
    await state.blockConcurrencyWhile(async () => undefined);
    return {
      upgraded,
      before,
      versions: sql
        .exec<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version")
        .toArray()
        .map((row) => row.version),
      commands: sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM commands").one().n,
      reports: sql.exec<{ state: string; n: number }>("SELECT state, COUNT(*) AS n FROM reports GROUP BY state ORDER BY state").toArray(),
    };
  });
}

/**
 * Runs the upgraded ledger's alarm, as the runtime does when its time comes (./helpers/ledger.ts
 * runLedgerAlarm, for this instance), and waits for the reports it sends.
 */
async function alarmAndReports(upgraded: CommandLedger) {
  await runInDurableObject(ledger(), async (_, state) => {
    const at = await state.storage.getAlarm();
    if (at === null) return;
    if (at > Date.now()) vi.setSystemTime(at);
    await state.storage.deleteAlarm();
    await upgraded.alarm();
  });
  await reportsSettled();
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("upgrading a ledger written by release 0.1.0", () => {
  it("runs every migration over it and keeps every row", async () => {
    const t0 = Date.now();
    world(t0);
    const upgrade = await upgradeFromReleaseOne(t0);
    expect(upgrade.before).toBe(0);
    expect(upgrade.versions).toEqual(LEDGER_MIGRATIONS.map((step) => step.version));
    expect(upgrade.commands).toBe(5);
    expect(upgrade.reports).toEqual([
      { state: "pending", n: 4 },
      { state: "sent", n: 10 },
    ]);
  });

  it("sends the reports 0.1.0 left pending, once each, and none it had sent", async () => {
    const t0 = Date.now();
    const { notesOn, slack, webhooks } = world(t0);
    const { upgraded } = await upgradeFromReleaseOne(t0);
    await alarmAndReports(upgraded);
    await alarmAndReports(upgraded);

    expect(await notesOn(SAMS_INCIDENT)).toEqual([expect.stringContaining("pcap and warp-diag started on SAM-XPS13")]);
    expect(await notesOn(JANES_INCIDENT)).toEqual([]);
    // Sam's report, left pending by 0.1.0; and the start of Jane's retried create, new since.
    const messages = (await slack()).map((body) => JSON.parse(body).text as string);
    expect(messages.filter((text) => text.includes("started on SAM-XPS13"))).toHaveLength(1);
    expect(messages.filter((text) => text.includes("started on JANE-MBP"))).toHaveLength(1);
    expect(messages).toHaveLength(2);
    const started = (await webhooks()).map((body) => JSON.parse(body).data.command_id as string);
    for (const { id } of SAMS_COMMANDS) expect(started.filter((commandId) => commandId === id)).toHaveLength(1);
    expect(started).toHaveLength(3);
  });

  it("keeps polling the commands 0.1.0 created, and reports each finish once", async () => {
    const t0 = Date.now();
    const { api, notesOn, webhooks } = world(t0);
    const { upgraded } = await upgradeFromReleaseOne(t0);
    await alarmAndReports(upgraded);
    for (const { id, type } of SAMS_COMMANDS) api.settle(id, "SUCCESS", `${type}-${id}.zip`);
    for (let i = 0; i < 6; i++) {
      advanceClock(20_000);
      await alarmAndReports(upgraded);
    }

    const finished = (await webhooks()).map((body) => JSON.parse(body)).filter((event) => event.type === "command.finished");
    expect(finished.map((event) => [event.data.command_id, event.data.status]).sort()).toEqual(SAMS_COMMANDS.map((c) => [c.id, "SUCCESS"]).sort());
    expect((await notesOn(SAMS_INCIDENT)).filter((note) => note.includes("finished: SUCCESS"))).toHaveLength(2);
    const statuses = await runInDurableObject(ledger(), (_, state) =>
      state.storage.sql
        .exec<{ command_id: string; status: string }>(
          "SELECT command_id, status FROM commands WHERE delivery_id = (SELECT delivery_id FROM commands WHERE command_id = ?)",
          SAMS_COMMANDS[0].id,
        )
        .toArray(),
    );
    expect(statuses.map((row) => row.status)).toEqual(["SUCCESS", "SUCCESS"]);
  });

  it("retries the create 0.1.0 saw fail, checking first that it did not land, and creates it once", async () => {
    const t0 = Date.now();
    const { api } = world(t0);
    const { upgraded } = await upgradeFromReleaseOne(t0);
    for (let i = 0; i < 3; i++) await alarmAndReports(upgraded);

    const created = api.callsTo("create").flatMap((call) => (call.body as { commands: Array<{ type: string; device_id: string }> }).commands);
    expect(created).toEqual([expect.objectContaining({ type: "warp-diag", device_id: JANE.deviceId })]);
    expect(api.callsTo("list").length).toBeGreaterThan(0);
    const row = await runInDurableObject(ledger(), (_, state) =>
      state.storage.sql
        .exec<{ state: string; command_id: string | null }>("SELECT state, command_id FROM commands WHERE rule = ? AND source = 'zapier'", JANES_RETRY_RULE)
        .one(),
    );
    expect(row.state).toBe("created");
    expect(api.commands.map((command) => command.id)).toContain(row.command_id);
  });

  it("still refuses a repeat of an incident it holds, and a command inside a cooldown 0.1.0 started", async () => {
    const t0 = Date.now();
    const { api } = world(t0);
    const { upgraded } = await upgradeFromReleaseOne(t0);
    await alarmAndReports(upgraded);
    const createsBefore = api.callsTo("create").length;

    // PagerDuty sends Jane's incident again: the same episode, already done.
    const repeat = await postIncident(JANES_INCIDENT, "VPN packet loss above 8% for jane.doe@example.com");
    await runReportingConsumer(repeat.queued);
    // A new incident about Sam within the 30 minutes of his commands' cooldown.
    const another = await postIncident("PBX9M2RT4KQ7LS", "VPN packet loss above 8% for sam.lee@example.com");
    await runReportingConsumer(another.queued);

    expect(api.callsTo("create")).toHaveLength(createsBefore);
    const outcomes = async (id: string) =>
      ((await currentDelivery(id))?.decisions ?? []).map((d: { rule: string; outcome: string }) => `${d.rule}: ${d.outcome}`);
    expect(await outcomes(repeat.json.delivery_id)).toEqual(["vpn-packet-loss-pcap: duplicate", "warp-diag-on-critical: duplicate"]);
    expect(await outcomes(another.json.delivery_id)).toEqual(["vpn-packet-loss-pcap: cooldown", "warp-diag-on-critical: cooldown"]);
  });
});
