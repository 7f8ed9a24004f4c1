import type { DexClient } from "../dispatch/dex/client";
import { isDexApiError } from "../dispatch/dex/errors";
import type { Decision } from "../record/decision";

/** Commands are listed per device: an audit read costs at most this many API calls. */
const MAX_DEVICES_LOOKED_UP = 10;
/** The list is filtered from a little before the delivery, for clock skew. */
const LOOKBACK_MS = 5 * 60_000;

export interface CommandStatus {
  command_id: string;
  device_id?: string;
  type?: string;
  status?: string;
  filename?: string | null;
  completed_date?: string | null;
  /** Set when the status could not be read. */
  error?: string;
}

/**
 * The current status of each command a delivery created (`PENDING_EXEC` … `SUCCESS` /
 * `FAILED`), with the artifact's file name once there is one, read from the DEX API.
 */
export async function readCommandStatuses(
  api: Pick<DexClient, "listCommands">,
  decisions: readonly Decision[],
  receivedAt: string,
): Promise<CommandStatus[]> {
  const created = decisions.filter((d) => d.command_id && (d.outcome === "created" || d.outcome === "duplicate"));
  const byDevice = new Map<string, Decision[]>();
  for (const decision of created) {
    const list = byDevice.get(decision.device_id ?? "") ?? [];
    list.push(decision);
    byDevice.set(decision.device_id ?? "", list);
  }
  const from = new Date(Date.parse(receivedAt) - LOOKBACK_MS).toISOString();
  const devices = [...byDevice.keys()];
  const statuses = await Promise.all(
    devices.map(async (deviceId, index): Promise<CommandStatus[]> => {
      const wanted = byDevice.get(deviceId)!;
      if (index >= MAX_DEVICES_LOOKED_UP) {
        return wanted.map((d) => ({ command_id: d.command_id!, device_id: deviceId, error: "not looked up: too many devices" }));
      }
      try {
        const { commands } = await api.listCommands({ device_id: deviceId, from, per_page: 50 });
        return wanted.map((d) => {
          const found = commands.find((c) => c.id === d.command_id);
          return found
            ? {
                command_id: found.id,
                device_id: deviceId,
                type: found.type ?? d.type,
                status: found.status ?? undefined,
                filename: found.filename ?? null,
                completed_date: found.completed_date ?? null,
              }
            : { command_id: d.command_id!, device_id: deviceId, type: d.type, error: "not listed by the DEX API" };
        });
      } catch (error) {
        if (!isDexApiError(error)) throw error;
        return wanted.map((d) => ({ command_id: d.command_id!, device_id: deviceId, type: d.type, error: error.message }));
      }
    }),
  );
  // A duplicate points at a command another delivery created; report each command once.
  const seen = new Set<string>();
  return statuses.flat().filter((s) => !seen.has(s.command_id) && seen.add(s.command_id));
}
