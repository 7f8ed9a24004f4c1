import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handedSettings, ledger } from "../../test/helpers/ledger";
import { isolateEachTest } from "../../test/helpers/relay";
import { REPORTING, SLACK_HOOK } from "../../test/helpers/reports";
import { HandedSettings } from "./ledger-settings";

/** Runs `check` with the account ledger's storage, as a new instance of the ledger would see it. */
function withStorage<T>(check: (sql: SqlStorage) => T): Promise<T> {
  return runInDurableObject(ledger(), (_, state) => check(state.storage.sql));
}

isolateEachTest();

describe("the settings the command ledger works with", () => {
  it("are the ones the relay handed it last, whatever its own bindings say", async () => {
    const handed = await withStorage((sql) => {
      const settings = new HandedSettings(env, sql);
      settings.take(handedSettings(REPORTING));
      const first = settings.current();
      settings.take(handedSettings({ SLACK_WEBHOOK_URL: "https://hooks.slack.test/services/T000/B000/other-hook" }));
      return { first: first.channels.slack?.url, later: settings.current().channels.slack?.url, webhook: settings.current().channels.webhook };
    });
    expect(handed).toEqual({ first: SLACK_HOOK, later: "https://hooks.slack.test/services/T000/B000/other-hook", webhook: undefined });
  });

  it("are read from its own bindings when its alarm wakes it before any call, with the cap the consumer last gave", async () => {
    const woken = await withStorage((sql) => {
      new HandedSettings(env, sql).take(handedSettings({ MAX_COMMANDS_PER_MINUTE: "7" }));
      // A new instance (after a deploy or an eviction) over the same storage.
      const settings = new HandedSettings({ ...env, ...REPORTING } as Env, sql).current();
      return { slack: settings.channels.slack?.url, cap: settings.dex.maxCommandsPerMinute, account: settings.dex.accountId };
    });
    expect(woken).toEqual({ slack: SLACK_HOOK, cap: 7, account: env.CF_ACCOUNT_ID });
  });

  it("keep going with what they had when an earlier release's Worker hands the cap alone, or nothing", async () => {
    const kept = await withStorage((sql) => {
      const settings = new HandedSettings(env, sql);
      settings.take(handedSettings(REPORTING));
      const fromReleaseOne = settings.take({ maxCommandsPerMinute: 4 });
      const fromNothing = settings.take(undefined);
      return { slack: fromReleaseOne.channels.slack?.url, nothing: fromNothing.channels.slack?.url };
    });
    expect(kept).toEqual({ slack: SLACK_HOOK, nothing: SLACK_HOOK });
    const cap = await withStorage((sql) => sql.exec<{ value: number }>("SELECT value FROM limits WHERE name = 'max_commands_per_minute'").one().value);
    expect(cap).toBe(4);
  });

  it("fail the alarm, which the runtime retries, when its own configuration is invalid", async () => {
    const failure = await withStorage((sql) => {
      try {
        new HandedSettings({ ...env, DEX_API_TOKEN: "", CF_API_TOKEN: "" } as Env, sql).current();
        return "no error";
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    });
    expect(failure).toBe("relay configuration is invalid: DEX_API_TOKEN: is not set");
  });
});
