import { Hono, type Context } from "hono";
import { requireBearer } from "./auth";
import { CommandStore, createdView } from "./commands";
import { readCreateRequest } from "./create-request";
import { physicalDeviceCount, searchDevices, seededDevicesAt, type AccountDevice } from "./devices";
import { ApiFailure, ERROR_CODES, failed, issueToError, readJson, succeeded } from "./envelope";
import type { StandInEnv } from "./env";
import { FaultQueue, FaultsRequest, injectFaults, ROUTES, type Route } from "./faults";
import { FleetRequest, FleetSwitch } from "./fleet-switch";
import { paginate, readCommandFilters, readPaging } from "./list-query";
import { CommandQuota, QuotaRequest } from "./quota";
import { rateLimit, RollingRateLimit } from "./rate-limit";
import { artifactZip } from "./artifact";
import { createReceivers, type ReceivedReport } from "./receivers";

export interface StandInOptions {
  /** The clock; tests pass one they move to watch commands progress. */
  now?: () => Date;
  /** How a fault's `delay_ms` is waited out; tests pass one that records it. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * The account's devices at `now`, read on every call; the seeded ones (devices.ts) by
   * default. The relay's tests pass their own fixtures, including devices they enrol
   * mid-test, so their creates are checked against the devices they look up.
   */
  devices?: (now: Date) => readonly AccountDevice[];
  /**
   * Where commands are kept. A test passes its own to read and settle them, usually one
   * with `progress: "manual"`; by default a fresh store whose commands move on with time.
   */
  store?: CommandStore;
  /**
   * The account's command quota: creates count against it and are refused once it is spent.
   * A test passes its own to set it; by default 1,000 a day, reset at 00:00 UTC.
   */
  quota?: CommandQuota;
  /**
   * Generated devices enrolled on top of `devices` (./fleet.ts): a fleet of this many, for
   * scale tests. Otherwise `STAND_IN_FLEET`, or what `POST /__fleet` set last.
   */
  fleet?: number;
}

/** Which counted call a request to the commands API is. */
function routeOf(method: string, path: string): Route {
  if (method === "POST") return "create";
  const last = path.split("/").pop();
  return last === "devices" || last === "quota" ? last : "list";
}

/**
 * A local stand-in for the DEX remote-commands API: the endpoints the relay calls, with
 * the API's envelope, validation, device rules and rate limit. Each call makes a fresh
 * instance, empty unless given a store; state is in memory only.
 */
export function createStandIn(options: StandInOptions = {}) {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const fleet = new FleetSwitch(options.devices ?? seededDevicesAt, options.fleet);
  const store = options.store ?? new CommandStore();
  const quota = options.quota ?? new CommandQuota();
  const limiter = new RollingRateLimit();
  const faults = new FaultQueue();
  const reports: ReceivedReport[] = [];
  // Calls per endpoint since start or reset: what benchmarks read to count API usage.
  const calls: Record<Route, number> = { create: 0, list: 0, devices: 0, quota: 0 };
  // Calls to the devices endpoint by kind: with a search, or reading the whole list.
  const deviceReads = { search: 0, list: 0 };
  // API calls answered 429, by the rate limit or a queued fault: what a benchmark must see at 0.
  let rateLimited = 0;
  /** The account's devices at `at`; `c.env` is absent when a test calls `app.request` without bindings. */
  const devicesAt = (c: Context<{ Bindings: StandInEnv }>, at: Date) => fleet.devicesAt(at, (c.env as StandInEnv | undefined)?.STAND_IN_FLEET);

  const api = new Hono<{ Bindings: StandInEnv }>();
  api.use(async (c, next) => {
    calls[routeOf(c.req.method, c.req.path)]++;
    await next();
  });
  api.use(requireBearer(), rateLimit(limiter, now), injectFaults(faults, routeOf, sleep));

  api.post("/", async (c) => {
    const at = now();
    const commands = readCreateRequest(await c.req.text(), devicesAt(c, at));
    quota.take(commands.length, at);
    const created = commands.map((command) => {
      const stored = store.add(command, at);
      return createdView(stored, store.viewAt(stored, at));
    });
    return c.json(succeeded({ commands: created }));
  });

  api.get("/", (c) => {
    const paging = readPaging((name) => c.req.query(name));
    const passes = readCommandFilters((name) => c.req.query(name));
    const at = now();
    const matching = store
      .newestFirst()
      .map((command) => store.viewAt(command, at))
      .filter(passes);
    const { items, resultInfo } = paginate(matching, paging);
    return c.json(succeeded({ commands: items }, resultInfo));
  });

  api.get("/devices", (c) => {
    const paging = readPaging((name) => c.req.query(name));
    const at = now();
    const search = c.req.query("search");
    deviceReads[search === undefined ? "list" : "search"]++;
    const found = searchDevices(devicesAt(c, at), search ?? "");
    const { items, resultInfo } = paginate(found, paging);
    return c.json(succeeded({ devices: items }, resultInfo));
  });

  api.get("/quota", (c) => c.json(succeeded(quota.view(now()))));

  const app = new Hono<{ Bindings: StandInEnv }>();

  // What the relay has created so far, for a developer with curl; no token needed.
  app.get("/", (c) => {
    const at = now();
    return c.json({
      commands: store.newestFirst().map((command) => ({ ...store.viewAt(command, at), args: command.args ?? null })),
      devices: physicalDeviceCount(devicesAt(c, at)),
      fleet: fleet.size(),
      calls,
      device_reads: deviceReads,
      rate_limited: rateLimited,
      faults: faults.pending(),
      quota: quota.summary(at),
      reports,
      note: "local DEX API stand-in; state resets on restart",
    });
  });

  // Benchmarks start from a clean slate without restarting wrangler.
  app.post("/__reset", (c) => {
    store.clear();
    limiter.reset();
    faults.clear();
    quota.reset();
    reports.length = 0;
    for (const route of ROUTES) calls[route] = 0;
    deviceReads.search = deviceReads.list = 0;
    rateLimited = 0;
    return c.json({ reset: true });
  });

  // Enrols a generated fleet on top of the devices (./fleet.ts); the devices stay across a reset.
  app.post("/__fleet", async (c) => {
    const parsed = FleetRequest.safeParse(readJson(await c.req.text()));
    if (!parsed.success) throw new ApiFailure(400, parsed.error.issues.map(issueToError));
    fleet.set(parsed.data.devices);
    return c.json({ fleet: fleet.size(), registrations: devicesAt(c, now()).length });
  });

  // Failures on demand, to watch the relay retry and reconcile: see README.md beside this file.
  app.post("/__faults", async (c) => {
    const parsed = FaultsRequest.safeParse(readJson(await c.req.text()));
    if (!parsed.success) throw new ApiFailure(400, parsed.error.issues.map(issueToError));
    faults.add(parsed.data);
    return c.json({ faults: faults.pending() });
  });

  app.delete("/__faults", (c) => {
    faults.clear();
    return c.json({ faults: faults.pending() });
  });

  // The account's command quota on demand, to watch the relay hold commands until it resets.
  app.post("/__quota", async (c) => {
    const parsed = QuotaRequest.safeParse(readJson(await c.req.text()));
    if (!parsed.success) throw new ApiFailure(400, parsed.error.issues.map(issueToError));
    const at = now();
    quota.set(parsed.data, at);
    return c.json({ quota: quota.summary(at) });
  });

  // A finished command's file, as `GET …/dex/commands/{id}/downloads/{filename}` serves it.
  app.get("/client/v4/accounts/:account/dex/commands/:id/downloads/:filename", requireBearer(), (c) => {
    const at = now();
    const command = store.find(c.req.param("id"));
    const view = command ? store.viewAt(command, at) : undefined;
    if (!command || !view?.filename || view.filename !== c.req.param("filename")) {
      throw new ApiFailure(404, [{ code: ERROR_CODES.noRoute, message: "No file for this command" }]);
    }
    return c.body(artifactZip(command.id, command.type, command.created_date), 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${view.filename}"`,
    });
  });

  app.route("/client/v4/accounts/:account/dex/commands", api);
  // Where the relay reports back: PagerDuty notes, Slack, the result webhook.
  app.route("/", createReceivers(reports, now));

  app.notFound((c) => c.json(failed([{ code: ERROR_CODES.noRoute, message: `No route for ${c.req.method} ${c.req.path}` }]), 404));

  app.onError((error, c) => {
    if (error instanceof ApiFailure) {
      if (error.status === 429) rateLimited++;
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json(failed(error.errors), error.status);
    }
    console.error("dex stand-in failed:", error);
    return c.json(failed([{ code: ERROR_CODES.internal, message: "Internal error in the DEX API stand-in" }]), 500);
  });

  return app;
}
