import { COMMAND_STATUSES, COMMAND_TYPES, type ResultInfo } from "../../src/model/dex-api";
import type { ListedCommandView } from "./commands";
import { ERROR_CODES, refuse } from "./envelope";

/** The API's page-size ceiling on both list endpoints. */
export const MAX_PER_PAGE = 50;
const DEFAULT_PER_PAGE = 10;

type QueryValue = (name: string) => string | undefined;

export interface Paging {
  page: number;
  perPage: number;
}

/** `page` (from 1) and `per_page` (1..50); anything else is a 400, as in the API. */
export function readPaging(query: QueryValue): Paging {
  return {
    page: readInteger(query, "page", 1, Number.MAX_SAFE_INTEGER) ?? 1,
    perPage: readInteger(query, "per_page", 1, MAX_PER_PAGE) ?? DEFAULT_PER_PAGE,
  };
}

/** One page of `items`, with the `result_info` the API sends alongside. */
export function paginate<T>(items: readonly T[], { page, perPage }: Paging): { items: T[]; resultInfo: ResultInfo } {
  const pageItems = items.slice((page - 1) * perPage, page * perPage);
  return {
    items: pageItems,
    resultInfo: {
      count: pageItems.length,
      page,
      per_page: perPage,
      total_count: items.length,
      total_pages: Math.ceil(items.length / perPage),
    },
  };
}

/** The filters of `GET /dex/commands`, checked; returns the test a listed command must pass. */
export function readCommandFilters(query: QueryValue): (command: ListedCommandView) => boolean {
  const from = readTime(query, "from");
  const to = readTime(query, "to");
  const deviceId = query("device_id");
  const userEmail = query("user_email")?.toLowerCase();
  const type = readOneOf(query, "command_type", COMMAND_TYPES);
  const status = readOneOf(query, "status", COMMAND_STATUSES);
  return (command) => {
    const created = Date.parse(command.created_date);
    return (
      (from === undefined || created >= from) &&
      (to === undefined || created <= to) &&
      (deviceId === undefined || command.device_id === deviceId) &&
      (userEmail === undefined || command.user_email.toLowerCase() === userEmail) &&
      (type === undefined || command.type === type) &&
      (status === undefined || command.status === status)
    );
  };
}

function readInteger(query: QueryValue, name: string, min: number, max: number): number | undefined {
  const raw = query(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw refuse(400, ERROR_CODES.invalidQuery, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function readTime(query: QueryValue, name: string): number | undefined {
  const raw = query(name);
  if (raw === undefined) return undefined;
  const time = Date.parse(raw);
  if (Number.isNaN(time)) throw refuse(400, ERROR_CODES.invalidQuery, `${name} must be an ISO 8601 time`);
  return time;
}

function readOneOf<T extends string>(query: QueryValue, name: string, allowed: readonly T[]): T | undefined {
  const raw = query(name);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw refuse(400, ERROR_CODES.invalidQuery, `${name} must be one of ${allowed.join(", ")}`);
  }
  return raw as T;
}
