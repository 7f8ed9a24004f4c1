import { app } from "./app";
import { consumeDeliveries } from "./consume/queue-consumer";

export { CommandLedger } from "./ledger/command-ledger";

export default {
  fetch: app.fetch,
  queue: (batch, env) => consumeDeliveries(batch, env),
} satisfies ExportedHandler<Env>;
