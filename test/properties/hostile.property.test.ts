import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { loadRules } from "../../src/config/load-rules";
import { MAX_MATCH_TEXT_LENGTH, matchRules } from "../../src/match/match-rules";
import type { NormalizedAlert } from "../../src/model/alert";
import { SOURCE_NAMES } from "../../src/sources/registry";
import { adversarialText, hostilePattern } from "../helpers/arbitraries";
import { enrol, mockDexApi } from "../helpers/dex-api-mock";
import { deliveryRecord, isolateEachTest, post, runConsumer } from "../helpers/relay";
import { validAuthHeaders } from "../helpers/source-auth";
import { alertGroup } from "../helpers/source-fixtures";

/**
 * Hostile input where it is largest: titles of up to 100,000 characters (any Unicode)
 * through every source, ingest and the queue consumer; and rule patterns built to
 * backtrack, which the loader must refuse or, once accepted, run on long adversarial text in
 * bounded time. Runs are few and inputs bounded, so the file stays within seconds.
 */
const TIMEOUT_MS = 120_000;
const MAX_TITLE = 100_000;
/** Far above what a bounded match takes, far below a hang. */
const MATCH_BUDGET_MS = 5_000;

isolateEachTest();

/** Unicode text of up to `max` characters: mostly one long run, sometimes mixed graphemes. */
const longTitle = fc.oneof(
  fc
    .tuple(fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: MAX_TITLE }))
    .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n)),
  fc
    .tuple(fc.constantFrom("VPN packet loss for jane.doe@example.com ", "dropping packets ", ""), adversarialText(MAX_TITLE))
    .map(([lead, rest]) => lead + rest),
  fc.string({ unit: "grapheme", maxLength: 2_000 }),
);

/** A delivery of `source` whose one firing, critical alert has `title` where that source keeps titles. */
function deliveryWithTitle(source: string, title: string, user: string): string {
  switch (source) {
    case "pagerduty":
      // PagerDuty's webhook names the user in the title only: in front, where rules read it.
      title = `packet loss for ${user}: ${title}`;
      return JSON.stringify({
        event: {
          id: crypto.randomUUID(),
          event_type: "incident.triggered",
          resource_type: "incident",
          occurred_at: new Date().toISOString(),
          data: { id: crypto.randomUUID(), type: "incident", title, urgency: "high", priority: { summary: "P1" } },
        },
      });
    case "zapier":
      return JSON.stringify({ id: crypto.randomUUID(), title, severity: "critical", user_email: user });
    case "alertmanager":
    case "grafana":
      return JSON.stringify(
        alertGroup([
          {
            status: "firing",
            labels: { alertname: "Long", severity: "critical", user_email: user },
            annotations: { summary: title },
            startsAt: new Date().toISOString(),
            fingerprint: crypto.randomUUID(),
          },
        ]),
      );
    case "datadog":
      return JSON.stringify({
        id: crypto.randomUUID(),
        alert_id: "1",
        cycle: crypto.randomUUID(),
        transition: "Triggered",
        title,
        tags: `user_email:${user}`,
        priority: "P1",
      });
    case "webhook":
      return JSON.stringify({ id: crypto.randomUUID(), title, severity: "critical", status: "firing", user_email: user });
    case "cloudflare":
      // A DEX notification names a test, not a user: the shipped rule sends to fixed targets.
      return JSON.stringify({
        name: title,
        text: title,
        data: { test_name: title },
        ts: Math.floor(Date.now() / 1000),
        account_id: "0123456789abcdef0123456789abcdef",
        policy_id: crypto.randomUUID(),
        policy_name: "Probe availability",
        alert_type: "synthetic_test_low_availability_alert",
        alert_correlation_id: crypto.randomUUID(),
        alert_event: "ALERT_STATE_EVENT_START",
      });
    default:
      throw new Error(`no delivery shape for source ${source}: add one here`);
  }
}

describe.each(SOURCE_NAMES)("%s: titles of up to 100,000 characters", (source) => {
  it(
    "are kept to what rules read or refused with 400, and the consumer decides every alert",
    async () => {
      const api = mockDexApi();
      await fc.assert(
        fc.asyncProperty(longTitle, async (title) => {
          const user = `${crypto.randomUUID()}@example.com`;
          enrol(crypto.randomUUID(), user);
          const body = deliveryWithTitle(source, title, user);
          const { status, json, queued } = await post(`/v1/alerts/${source}`, {
            headers: { "content-type": "application/json", ...(await validAuthHeaders(source, body)) },
            body,
          });
          expect([202, 400], JSON.stringify(json).slice(0, 200)).toContain(status);
          if (status === 400) {
            // Only sources that keep titles whole refuse them, and only for their length.
            expect(title.length).toBeGreaterThan(MAX_MATCH_TEXT_LENGTH);
            // The field that carries the title: `title`, or a Cloudflare notification's `name`.
            expect(json.error).toMatch(/title|name/);
            expect(queued).toEqual([]);
            return;
          }
          const alerts = queued.flatMap((m: DeliveryMessage) => m.alerts);
          expect(alerts).toHaveLength(1);
          expect(alerts[0]!.title.length).toBeLessThanOrEqual(MAX_MATCH_TEXT_LENGTH);
          const result = await runConsumer(queued);
          expect(result.explicitAcks).toHaveLength(queued.length);
          const decisions = (await deliveryRecord(queued[0]!.delivery_id))?.decisions ?? [];
          expect(decisions.length).toBeGreaterThan(0);
          if (source === "cloudflare") {
            // The fixed-target rule decided, whatever the title (its probes are not online here).
            expect(decisions).toContainEqual(expect.objectContaining({ rule: "dex-alert-probe-warp-diag" }));
            return;
          }
          // Critical, about a user who is online: the shipped warp-diag rule acts, whatever the title.
          expect(decisions).toContainEqual(expect.objectContaining({ rule: "warp-diag-on-critical", outcome: "created" }));
        }),
        // A title every source takes runs first: most generated ones are longer than a source
        // that keeps titles whole accepts, and eight refusals in a row would prove nothing.
        { numRuns: 8, examples: [["VPN packet loss for jane.doe@example.com"]] },
      );
      if (source !== "cloudflare") expect(api.callsTo("create").length).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});

describe("rule patterns built to backtrack", () => {
  const alertTitled = (title: string, label: string): NormalizedAlert => ({
    source: "zapier",
    episode: "zapier:hostile",
    title,
    severity: "critical",
    firing: true,
    status: "firing",
    labels: { service: label },
    target: {},
  });

  it(
    "are refused at load with the path of the pattern, or run on long adversarial text in bounded time",
    () => {
      let accepted = 0;
      fc.assert(
        fc.property(hostilePattern, fc.boolean(), fc.array(adversarialText(MAX_TITLE), { minLength: 1, maxLength: 3 }), (pattern, asLabel, texts) => {
          const match = asLabel ? { labels: { service: pattern } } : { title: pattern };
          const loaded = loadRules([{ name: "hostile", match, command: { type: "warp-diag" } }], SOURCE_NAMES);
          if (!loaded.ok) {
            expect(loaded.error).toMatch(asLabel ? /^RULES\[0\]\.match\.labels\.service: / : /^RULES\[0\]\.match\.title: /);
            return;
          }
          accepted++;
          for (const text of texts) {
            const started = Date.now();
            const matches = matchRules(alertTitled(text, text), loaded.rules);
            expect(Date.now() - started, `${pattern} on ${JSON.stringify(text.slice(0, 20))}…(${text.length})`).toBeLessThan(MATCH_BUDGET_MS);
            for (const m of matches) expect(m.rule.name).toBe("hostile");
          }
        }),
        { numRuns: 150 },
      );
      expect(accepted).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  it("are refused when they nest repetitions that overlap, whatever they are wrapped in", () => {
    const nested = fc
      .tuple(
        fc.constantFrom("a", "\\w", "\\d", "[a-z]", ".", "\\S"),
        fc.constantFrom("+", "*", "{1,}", "{2,}"),
        fc.constantFrom("*", "+", "{2,}"),
        fc.constantFrom("", "^", "x", "(?<hostname>"),
        fc.boolean(),
      )
      .map(([atom, inner, outer, lead, alternate]) => {
        const body = alternate ? `(?:${atom}|${atom}${atom})` : `(?:${atom}${inner})`;
        const group = `${body}${outer}`;
        return lead === "(?<hostname>" ? `/${lead}${group})$/` : `/${lead}${group}$/`;
      });
    fc.assert(
      fc.property(nested, (pattern) => {
        const loaded = loadRules([{ name: "nested", match: { title: pattern }, command: { type: "pcap" } }], SOURCE_NAMES);
        expect(loaded.ok, pattern).toBe(false);
        if (!loaded.ok) expect(loaded.error).toMatch(/^RULES\[0\]\.match\.title: pattern may backtrack catastrophically: /);
      }),
      { numRuns: 100 },
    );
  });
});
