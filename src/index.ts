import { app } from "./app";
import { DEAD_LETTER_QUEUE, keepDeadLetters } from "./consume/dead-letter-consumer";
import { consumeDeliveries } from "./consume/queue-consumer";

// Only handlers and Durable Object classes may be exported here: workerd takes every named
// export of the entry module for an entrypoint.
export { CommandLedger } from "./ledger/command-ledger";

export default {
  fetch: app.fetch,
  queue: (batch, env) => (batch.queue === DEAD_LETTER_QUEUE ? keepDeadLetters(batch, env) : consumeDeliveries(batch, env)),
} satisfies ExportedHandler<Env>;
