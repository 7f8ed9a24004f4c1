import { createStandIn } from "./app";
import type { StandInEnv } from "./env";

// The Worker entry: only the default export lives here, because workerd reads every named
// export of the entry module as an entrypoint. Tests build their own instance from ./app.
const app = createStandIn();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<StandInEnv>;
