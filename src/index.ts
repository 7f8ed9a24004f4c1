import { app } from "./app";
import { keepDeadLetters } from "./consume/dead-letter-consumer";
import { consumeDeliveries } from "./consume/queue-consumer";

export { CommandLedger } from "./ledger/command-ledger";

/** The queue wrangler.toml names as the alert queue's `dead_letter_queue`. */
export const DEAD_LETTER_QUEUE = "dex-alert-relay-dead-letter";

export default {
  fetch: app.fetch,
  queue: (batch, env) => (batch.queue === DEAD_LETTER_QUEUE ? keepDeadLetters(batch, env) : consumeDeliveries(batch, env)),
} satisfies ExportedHandler<Env>;
