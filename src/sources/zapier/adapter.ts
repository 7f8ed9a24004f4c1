import type { NormalizedAlert } from "../../model/alert";
import { badRequest, unsupportedMediaType } from "../../model/http-errors";
import type { RawDelivery, SourceAdapter } from "../adapter";
import { bearerAuth } from "../bearer";
import { canonicalHash, normalizeId } from "../ids";
import { MAX_ID_LENGTH, MAX_LABEL_KEY_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS } from "../limits";
import { normalizeSeverity } from "../severity";
import { alertTarget, parseJsonObject, parseOrRefuse } from "../toolkit";
import { KNOWN_FIELDS, NOT_FIRING_STATUSES, ZapierAlertFields } from "./schema";

const FORM = "application/x-www-form-urlencoded";

/** Lets a Zap name the episode itself, e.g. from the triggering ticket's id. */
const IDEMPOTENCY_HEADER = "Idempotency-Key";

const UNTITLED = "(untitled Zapier alert)";

/**
 * "Webhooks by Zapier" POST actions, authenticated with `Authorization: Bearer` set as a
 * custom header in the Zap. The body is a flat JSON object or a form: `id`, `title`,
 * `severity`, `status`, `device_id`, `user_email`, `registration_id` and `hostname` have
 * a meaning, every other field becomes a label rules can match.
 */
export const zapier: SourceAdapter = {
  name: "zapier",
  contentTypes: ["application/json", FORM],
  verify: bearerAuth("ZAPIER_TOKEN"),

  async receive(delivery) {
    const record = readFields(delivery);
    const { known, labels } = splitFields(record);
    const fields = parseOrRefuse(ZapierAlertFields, known);

    const status = fields.status ?? "firing";
    const alert: NormalizedAlert = {
      source: "zapier",
      episode: `zapier:${await episodeKey(delivery, fields.id, record)}`,
      title: fields.title || UNTITLED,
      severity: normalizeSeverity(fields.severity),
      firing: !NOT_FIRING_STATUSES.includes(status.toLowerCase()),
      status,
      labels,
      target: alertTarget(fields),
    };
    return { alerts: [alert] };
  },
};

/**
 * The body as one record of fields, whichever of the two encodings Zapier used. A form
 * field sent twice keeps its last value.
 */
function readFields(delivery: RawDelivery): Record<string, unknown> {
  if (delivery.contentType === FORM) {
    // curl -d and some HTTP clients label any body a form: a JSON object read as a form would
    // become one odd field and an untitled alert. Say what to send instead.
    if (looksLikeJsonObject(delivery.body)) {
      throw unsupportedMediaType("the body is JSON but Content-Type says form: send Content-Type: application/json (in Zapier, Payload Type json)");
    }
    return Object.fromEntries(new URLSearchParams(delivery.body));
  }
  return parseJsonObject(delivery.body);
}

function looksLikeJsonObject(body: string): boolean {
  if (!body.trimStart().startsWith("{")) return false;
  try {
    const json: unknown = JSON.parse(body);
    return typeof json === "object" && json !== null && !Array.isArray(json);
  } catch {
    return false;
  }
}

/**
 * Separates the known fields from the labels. Zapier sends an empty string for a mapped
 * field the trigger left empty, so blank known fields count as absent. Labels keep
 * strings, numbers and booleans; nested objects, arrays and nulls are skipped, since rules
 * match flat text: a Zap that needs a nested value maps it to a top-level field.
 */
function splitFields(record: Record<string, unknown>) {
  const known: Record<string, unknown> = {};
  const labels: [string, string][] = [];
  for (const [key, value] of Object.entries(record)) {
    if ((KNOWN_FIELDS as readonly string[]).includes(key)) {
      const kept = typeof value === "string" ? value.trim() : value;
      if (kept !== "" && kept !== null) known[key] = kept;
      continue;
    }
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") continue;
    if (labels.length === MAX_LABELS) {
      throw badRequest(`${fieldName(key)}: too many fields, at most ${MAX_LABELS} besides the known ones`);
    }
    if (key.length > MAX_LABEL_KEY_LENGTH) {
      throw badRequest(`${fieldName(key)}: field name is longer than ${MAX_LABEL_KEY_LENGTH} characters`);
    }
    const text = String(value);
    if (text.length > MAX_LABEL_VALUE_LENGTH) {
      throw badRequest(`${fieldName(key)}: longer than ${MAX_LABEL_VALUE_LENGTH} characters`);
    }
    labels.push([key, text]);
  }
  // fromEntries keeps a field named like an Object.prototype member as a plain label.
  return { known, labels: Object.fromEntries(labels) as Record<string, string> };
}

/** A field name short enough to quote in an error message. */
function fieldName(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}…` : key;
}

/**
 * What names the episode: the alert's own `id`, else the Zap's Idempotency-Key header, else
 * a hash of the fields in a canonical form, so that Zapier's replays of one run collapse.
 * Every one is normalized (see normalizeId): a variant spelling is the same episode. The id
 * wins over the header, so a second or different key cannot split one alert into several;
 * a header sent twice (which arrives comma-joined) is refused rather than guessed at.
 */
async function episodeKey(delivery: RawDelivery, id: string | undefined, record: Record<string, unknown>): Promise<string> {
  const ownId = id === undefined ? "" : normalizeId(id);
  if (ownId) return ownId;
  const header = delivery.headers.get(IDEMPOTENCY_HEADER);
  if (header !== null && header.trim() !== "") {
    if (header.includes(",")) throw badRequest(`${IDEMPOTENCY_HEADER} header must be sent once, with one value`);
    const key = normalizeId(header);
    if (key.length > MAX_ID_LENGTH) {
      throw badRequest(`${IDEMPOTENCY_HEADER} header is longer than ${MAX_ID_LENGTH} characters`);
    }
    if (key) return key;
  }
  return canonicalHash(record);
}
