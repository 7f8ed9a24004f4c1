import { Hono } from "hono";
import * as z from "../model/zod";
import type { ListedCommand } from "../ledger/list-commands";
import { operatorAuth } from "./operator-auth";
import type { AppEnv, RequestConfig } from "../config/middleware";
import { downloadUrl, operatorLedger, optionalText, PageQuery, publicBase, validQuery } from "./operator-query";

export const CommandsQuery = z.extend(PageQuery, { status: optionalText, device: optionalText });

export type CommandView = ListedCommand & { download_url: string | null };

/** One page of the ledger's commands, newest first, with a download link once there is an artifact. */
export async function commandsPage(
  env: Env,
  config: RequestConfig,
  query: z.infer<typeof CommandsQuery>,
  base: string,
): Promise<{ commands: CommandView[]; cursor: string | null }> {
  const page = await operatorLedger(env, config).listCommands(query);
  return { commands: page.commands.map((command) => ({ ...command, download_url: downloadUrl(base, command) })), cursor: page.cursor };
}

/**
 * `GET /v1/commands?status=&device=&since=&cursor=&limit=`: every command the ledger holds,
 * newest first, with its DEX status as last read, device name, rule and download link.
 * Operators only.
 */
export const commandsRoute = new Hono<AppEnv>().get("/v1/commands", operatorAuth(), validQuery(CommandsQuery), async (c) => {
  return c.json(await commandsPage(c.env, c.var.config, c.req.valid("query"), publicBase(c.env, c.req.url)));
});
