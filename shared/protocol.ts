import { z } from "zod";
import type { AnyGame } from "./game/define-game.js";
import { findUnstorableText, unstorableReason } from "./storable-text.js";
import { MAX_ACTION_ID_CHARS, MAX_CHAT_CHARS, MAX_NAME_CHARS, MAX_SIGNAL_BYTES } from "./wire.js";

/**
 * Validation of what clients send, on the node: every frame is checked here
 * before the engine looks at it, game actions against the lobby's game's own
 * schema. The envelope's types and constants are in wire.ts (no imports, for
 * the SDK); see docs/protocol.md for the whole exchange.
 */

export * from "./wire.js";

const actionId = z.string().min(1).max(MAX_ACTION_ID_CHARS);
const text = z.string().trim().min(1).max(MAX_CHAT_CHARS);

const chatSchema = z.object({ type: z.literal("chat"), id: actionId, text }).strict();
/** A direct message to a player in any lobby, on any node (not part of the lobby log). */
const dmSchema = z.object({ type: z.literal("dm"), id: actionId, to: z.string().min(1).max(32), text }).strict();
/** Ephemeral: cursors, typing, pings. Fanned out at once; `to` narrows it to one player of the lobby. */
const signalSchema = z
  .object({
    type: z.literal("signal"),
    id: actionId.optional(),
    to: z.string().min(1).max(32).optional(),
    data: z.unknown(),
  })
  .strict();
/** Leave the lobby for good (the seat is freed; the game's onLeave decides what that means). */
const leaveSchema = z.object({ type: z.literal("leave"), id: actionId }).strict();

export type ChatMessage = z.infer<typeof chatSchema>;
export type DirectMessageRequest = z.infer<typeof dmSchema>;
export type SignalRequest = z.infer<typeof signalSchema>;
/** A game action as it arrived: the action's name, the client's id, and the rest of the frame. */
export type GameActionRequest = { type: "action"; id: string; name: string; payload: Record<string, unknown> };

export type ClientMessage =
  | ChatMessage
  | DirectMessageRequest
  | SignalRequest
  | z.infer<typeof leaveSchema>
  | GameActionRequest;
/** What goes into a lobby's log through LobbyRegistry.submit. */
export type LobbyAction = ChatMessage | z.infer<typeof leaveSchema> | GameActionRequest;

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; id?: string; message: string };

// A Map, not an object: a frame's type is client input, and "__proto__" must not find anything.
const ENGINE_SCHEMAS = new Map<string, z.ZodType>([
  ["chat", chatSchema],
  ["dm", dmSchema],
  ["signal", signalSchema],
  ["leave", leaveSchema],
]);

/** Validates one text frame's envelope (game payloads are checked by checkGameAction). Never throws. */
export function parseClientMessage(raw: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, message: "frame is not valid JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, message: "a frame is a JSON object" };
  }
  const frame = data as Record<string, unknown>;
  const id = typeof frame.id === "string" ? frame.id.slice(0, MAX_ACTION_ID_CHARS) : undefined;
  const fail = (message: string): ParseResult => ({ ok: false, id, message });
  const unstorable = unstorableReason(frame);
  if (unstorable !== null) return fail(unstorable);
  if (typeof frame.type !== "string" || frame.type.length === 0 || frame.type.length > 32) {
    return fail("type: a frame needs a type");
  }
  const engine = ENGINE_SCHEMAS.get(frame.type);
  if (engine) return fromZod(engine.safeParse(frame), id);
  const parsedId = actionId.safeParse(frame.id);
  if (!parsedId.success) return fail(`id: ${parsedId.error.issues[0]?.message ?? "invalid"}`);
  const { type, id: _, ...payload } = frame;
  return { ok: true, message: { type: "action", id: parsedId.data, name: type as string, payload } };
}

/** Checks a signal's data size (its shape is the game's and the clients' business). */
export function signalTooLarge(data: unknown): boolean {
  return JSON.stringify(data ?? null).length > MAX_SIGNAL_BYTES;
}

export type CheckedAction =
  | { ok: true; action: { type: string } & Record<string, unknown> }
  | { ok: false; code: string; message: string };

/** A game action against the lobby's game: known name, payload valid under the game's schema (strict). */
export function checkGameAction(game: AnyGame, request: GameActionRequest): CheckedAction {
  const schema = Object.hasOwn(game.actions, request.name) ? game.actions[request.name] : undefined;
  if (!schema) {
    const known = Object.keys(game.actions).join(", ");
    return {
      ok: false,
      code: "unknown_action",
      message: `${game.id} has no action "${request.name}" (it has ${known})`,
    };
  }
  const strict = schema instanceof z.ZodObject ? schema.strict() : schema;
  const result = strict.safeParse(request.payload);
  if (!result.success) return { ok: false, code: "bad_message", message: issueText(result.error) };
  const payload = typeof result.data === "object" && result.data !== null ? result.data : {};
  return { ok: true, action: { ...payload, type: request.name } };
}

/** A lobby's create options against its game's schema. */
export function checkGameOptions(
  game: AnyGame,
  options: unknown,
): { ok: true; options: unknown } | { ok: false; message: string } {
  const unstorable = unstorableReason(options);
  if (unstorable !== null) return { ok: false, message: `options.${unstorable}` };
  const result = game.options.safeParse(options ?? {});
  return result.success
    ? { ok: true, options: result.data }
    : { ok: false, message: `options: ${issueText(result.error)}` };
}

function fromZod(result: z.ZodSafeParseResult<unknown>, id: string | undefined): ParseResult {
  if (result.success) return { ok: true, message: result.data as ClientMessage };
  return { ok: false, id, message: issueText(result.error) };
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue?.message ?? "invalid message"}`;
}

/** Player names on create and join: 1 to MAX_NAME_CHARS characters after trimming, storable. */
export const playerNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_NAME_CHARS)
  .refine((name) => findUnstorableText(name) === null, "NUL characters and unpaired surrogates are not allowed");
