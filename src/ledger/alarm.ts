/**
 * Sets the ledger's one alarm for the earliest of `times` (never in the past), or clears it
 * when nothing waits. An alarm already set for that moment is left alone, which spares a
 * storage write on every submit that changes nothing.
 */
export async function scheduleAlarm(storage: DurableObjectStorage, now: number, times: ReadonlyArray<number | undefined>): Promise<void> {
  const given = times.filter((time): time is number => time !== undefined);
  const at = given.length > 0 ? Math.max(now, Math.min(...given)) : null;
  if ((await storage.getAlarm()) === at) return;
  if (at === null) await storage.deleteAlarm();
  else await storage.setAlarm(at);
}
