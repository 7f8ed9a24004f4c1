import { env } from "cloudflare:workers";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import type { RawDelivery, SourceAdapter } from "../../src/sources/adapter";
import type { NormalizedAlert } from "../../src/model/alert";

const JSON_TYPE = "application/json";

/** A body as a sender delivers it; `contentType` defaults to `application/json`. */
export interface FixtureBody {
  name: string;
  body: string;
  contentType?: string;
}

/**
 * One alert of a delivery, whole: the one place a source's mapping of its fixtures is
 * written down. `source` is the adapter's name; `firing` defaults to true.
 */
export type ExpectedAlert = Omit<NormalizedAlert, "source" | "firing"> & { firing?: boolean };

export interface FiringFixture extends FixtureBody {
  /** The alerts the body yields, in order. */
  alerts: ExpectedAlert[];
}

export interface NotFiringFixture extends FixtureBody {
  /** When set, the delivery must be ignored as a whole with a reason matching this. */
  ignored?: RegExp;
}

export interface MalformedFixture extends FixtureBody {
  /** The path the 400 message must name (`event.data.id`, `user_email`). */
  field: string;
}

/** Two deliveries of the same alert, built the way the sender would send them. */
export interface DeliveryPair {
  name: string;
  first: () => Promise<RawDelivery>;
  again: () => Promise<RawDelivery>;
}

/** How one source plugs into {@link describeSourceAdapter}. */
export interface SourceAdapterSpec {
  adapter: SourceAdapter;
  /** The bindings holding this source's secret; each is unset in turn to check the source fails closed. */
  secretBindings: readonly (keyof Env)[];
  /** A delivery of `body` that `verify` accepts with the test bindings. */
  deliver(body: string, contentType?: string): Promise<RawDelivery>;
  /** The same delivery, authenticated with a wrong secret or token. */
  withWrongAuth(delivery: RawDelivery): Promise<RawDelivery>;
  /** The same delivery with its authentication removed. */
  withoutAuth(delivery: RawDelivery): RawDelivery;
  /** True for signature sources: a body changed after signing must be refused. */
  authCoversBody: boolean;
  /** Deliveries that must act. */
  firing: FiringFixture[];
  /** Deliveries that must act on nothing: resolved, acknowledged, pings. */
  notFiring: NotFiringFixture[];
  /** Well-formed JSON of the wrong shape. */
  malformed: MalformedFixture[];
  /** Different deliveries that are one episode (a repeat notification, a retry with a new header). */
  sameEpisode?: DeliveryPair[];
  /** Deliveries about the same alert that are distinct episodes (a reopen, a new firing cycle). */
  newEpisode?: DeliveryPair[];
  /** The clock passed to `verify`, for sources whose signatures carry a timestamp. */
  now?: () => Date;
}

/**
 * The behaviour every source shares, run once per source: authentication fails closed,
 * malformed bodies get a 400 that names the field, retries keep their episode, and firing
 * and non-firing deliveries map exactly as the spec expects. Source quirks are tested
 * beside the adapter, against the spec's fixtures changed one field at a time.
 */
export function describeSourceAdapter(spec: SourceAdapterSpec): void {
  const { adapter } = spec;
  const now = () => spec.now?.() ?? new Date();
  const all: FixtureBody[] = [...spec.firing, ...spec.notFiring];
  const deliver = (fixture: FixtureBody) => spec.deliver(fixture.body, fixture.contentType ?? JSON_TYPE);
  const receive = async (fixture: FixtureBody) => adapter.receive(await deliver(fixture), now());
  const sample = spec.firing[0]!;

  describe(`${adapter.name} source`, () => {
    it("takes JSON bodies", () => {
      expect(adapter.contentTypes).toContain(JSON_TYPE);
    });

    describe("verify", () => {
      it.each(all.map((f) => [f.name, f] as const))("accepts an authentic delivery: %s", async (_, fixture) => {
        await expect(adapter.verify(await deliver(fixture), env, now())).resolves.toBeUndefined();
      });

      it("refuses a delivery authenticated with a wrong secret, without echoing any secret", async () => {
        const refusal = await expectRefusal(adapter.verify(await spec.withWrongAuth(await deliver(sample)), env, now()), 401);
        for (const name of spec.secretBindings) expect(refusal.message).not.toContain(String(env[name]));
      });

      it("refuses a delivery without authentication", async () => {
        await expectRefusal(adapter.verify(spec.withoutAuth(await deliver(sample)), env, now()), 401);
      });

      it.each(spec.secretBindings.flatMap((name) => [[name, undefined] as const, [name, "  "] as const]))(
        "refuses everything while %s is %j",
        async (name, value) => {
          const withoutSecret = { ...env, [name]: value } as unknown as Env;
          await expectRefusal(adapter.verify(await deliver(sample), withoutSecret, now()), 401, new RegExp(`${name} is not set`));
        },
      );

      // Only a signature covers the body; a bearer token says nothing about it.
      if (spec.authCoversBody) {
        it("refuses a body changed after it was signed", async () => {
          const delivery = await deliver(sample);
          const body = delivery.body.replace(/[a-z]/, (c) => c.toUpperCase());
          const tampered = { ...delivery, body, bytes: new TextEncoder().encode(body) };
          expect(tampered.body).not.toBe(delivery.body);
          await expectRefusal(adapter.verify(tampered, env, now()), 401);
        });
      }
    });

    describe("receive", () => {
      it("refuses a body that is not JSON", async () => {
        await expectRefusal(adapter.receive(await spec.deliver('{"truncated": ', JSON_TYPE)), 400, /not valid JSON/);
      });

      it.each(["[]", "null", '"firing"', "42"])("refuses the JSON value %s as a body", async (body) => {
        await expectRefusal(adapter.receive(await spec.deliver(body, JSON_TYPE)), 400);
      });

      it.each(spec.malformed.map((f) => [f.name, f] as const))("names the field when %s", async (_, fixture) => {
        const refusal = await expectRefusal(receive(fixture), 400);
        expect(refusal.message).toContain(fixture.field);
      });

      it.each(spec.firing.map((f) => [f.name, f] as const))("maps a firing delivery: %s", async (_, fixture) => {
        const { alerts, ignored } = await receive(fixture);
        expect(ignored).toBeUndefined();
        expect(alerts).toEqual(fixture.alerts.map((alert) => ({ source: adapter.name, firing: true, ...alert })));
        expect(alerts.some((a) => a.firing)).toBe(true);
        expect(new Set(alerts.map((a) => a.episode)).size).toBe(alerts.length);
      });

      it.each(spec.notFiring.map((f) => [f.name, f] as const))("acts on nothing for %s", async (_, fixture) => {
        const { alerts, ignored } = await receive(fixture);
        expect(alerts.filter((a) => a.firing)).toEqual([]);
        if (fixture.ignored) expect(ignored).toMatch(fixture.ignored);
      });

      it.each(all.map((f) => [f.name, f] as const))("names the source and its episode namespace: %s", async (_, fixture) => {
        for (const alert of (await receive(fixture)).alerts) {
          expect(alert.source).toBe(adapter.name);
          expect(alert.episode.startsWith(`${adapter.name}:`)).toBe(true);
          expect(alert.title).not.toBe("");
          for (const value of Object.values(alert.labels)) expect(typeof value).toBe("string");
        }
      });
    });

    describe("episodes", () => {
      it.each(all.map((f) => [f.name, f] as const))("gives a retried delivery the same episodes: %s", async (_, fixture) => {
        const first = await receive(fixture);
        const again = await receive(fixture);
        expect(again.alerts.map((a) => a.episode)).toEqual(first.alerts.map((a) => a.episode));
      });

      it.each((spec.sameEpisode ?? []).map((p) => [p.name, p] as const))("keeps one episode: %s", async (_, pair) => {
        const [first, again] = await episodesOf(adapter, pair, now());
        expect(first.length).toBeGreaterThan(0);
        expect(again).toEqual(first);
      });

      it.each((spec.newEpisode ?? []).map((p) => [p.name, p] as const))("starts a new episode: %s", async (_, pair) => {
        const [first, again] = await episodesOf(adapter, pair, now());
        expect(first.length).toBeGreaterThan(0);
        for (const episode of again) expect(first).not.toContain(episode);
      });
    });
  });
}

async function episodesOf(adapter: SourceAdapter, pair: DeliveryPair, now: Date): Promise<[string[], string[]]> {
  const first = await adapter.receive(await pair.first(), now);
  const again = await adapter.receive(await pair.again(), now);
  return [first.alerts.map((a) => a.episode), again.alerts.map((a) => a.episode)];
}

/** A delivery as the receive stage hands it to a source. */
export function rawDelivery(body: string, headers: HeadersInit = {}, contentType = JSON_TYPE): RawDelivery {
  return { bytes: new TextEncoder().encode(body), body, headers: new Headers(headers), contentType };
}

/** A copy of `delivery` with one header set, the original left as it was. */
export function withHeader(delivery: RawDelivery, name: string, value: string): RawDelivery {
  const headers = new Headers(delivery.headers);
  headers.set(name, value);
  return { ...delivery, headers };
}

/** A copy of `delivery` without one header. */
export function withoutHeader(delivery: RawDelivery, name: string): RawDelivery {
  const headers = new Headers(delivery.headers);
  headers.delete(name);
  return { ...delivery, headers };
}

/** Awaits `action`, asserts it was refused with `status` (and a message matching `message`), and returns the refusal. */
export async function expectRefusal(action: Promise<unknown>, status: number, message?: RegExp): Promise<HTTPException> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a ${status} refusal`).toBeInstanceOf(HTTPException);
  const refusal = error as HTTPException;
  expect(refusal.status).toBe(status);
  if (message) expect(refusal.message).toMatch(message);
  return refusal;
}
