import type { ApiGate } from "../dispatch/dex-client";
import type { CommandLedger } from "./command-ledger";

export type LedgerStub = DurableObjectStub<CommandLedger>;

/** The account's one command ledger: every Worker, location and retry reaches the same object. */
export function commandLedger(env: Env, accountId: string): LedgerStub {
  return env.COMMAND_LEDGER.get(env.COMMAND_LEDGER.idFromName(accountId));
}

/** The ledger's API budget, for calls made outside it (device searches). */
export function ledgerGate(ledger: LedgerStub): ApiGate {
  return {
    take: (calls) => ledger.takeApiCalls(calls),
    lockOut: (seconds) => ledger.lockOut(seconds),
  };
}
