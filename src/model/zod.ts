import { en } from "zod/locales";
import { config } from "zod/mini";

/**
 * Zod Mini: the same checks as classic Zod, written as functions (`z.optional(x)`,
 * `x.check(z.maxLength(n))`) so that the bundle keeps only what the relay uses. Mini carries
 * no messages of its own; the English ones are set here, so every refusal reads as it always
 * has (`Too big: expected string to have <=256 characters`). Every schema imports Zod from
 * this module (`import * as z from "../model/zod"`), so they are set before anything parses.
 */
config(en());

export * from "zod/mini";
