import { z } from "zod";
import type { AccountDevice } from "./devices";
import { fleetDevices, MAX_FLEET } from "./fleet";

/** The body of `POST /__fleet`: how many generated devices to enrol (0 takes them away). */
export const FleetRequest = z.strictObject({ devices: z.int().min(0).max(MAX_FLEET) });

/**
 * The generated fleet on top of the account's other devices. Its size is what `POST /__fleet`
 * set last, else what the stand-in was created with, else `STAND_IN_FLEET`. Generated devices
 * are kept for the size asked and the second, so a read of a 10,000-device list does not
 * build 10,000 devices for each page.
 */
export class FleetSwitch {
  #size: number | undefined;
  #generated: { size: number; second: number; devices: AccountDevice[] } | undefined;
  #fromVar = 0;

  constructor(
    private readonly others: (now: Date) => readonly AccountDevice[],
    size?: number,
  ) {
    this.#size = size;
  }

  set(size: number): void {
    this.#size = size;
  }

  size(): number {
    return this.#size ?? this.#fromVar;
  }

  /** Every device at `now`: the others, then the fleet. `fleetVar` is `STAND_IN_FLEET`. */
  devicesAt(now: Date, fleetVar: string | undefined): AccountDevice[] {
    this.#fromVar = sizeFrom(fleetVar);
    const size = this.size();
    const second = Math.floor(now.getTime() / 1000);
    if (this.#generated?.size !== size || this.#generated.second !== second) {
      this.#generated = { size, second, devices: fleetDevices(size, now) };
    }
    return [...this.others(now), ...this.#generated.devices];
  }
}

/** `STAND_IN_FLEET` when it is a whole number up to MAX_FLEET, else no fleet. */
function sizeFrom(value: string | undefined): number {
  const size = Number(value);
  return Number.isInteger(size) && size >= 0 && size <= MAX_FLEET ? size : 0;
}
