import { describe, expect, it } from "vitest";
import { connectFour } from "../../shared/games/connect-four/game.js";
import {
  checkGameAction,
  checkGameOptions,
  type GameActionRequest,
  MAX_CHAT_CHARS,
  parseClientMessage,
} from "../../shared/protocol.js";
import { findUnstorableText } from "../../shared/storable-text.js";

const frame = (value: unknown): string => JSON.stringify(value);

function expectRejected(raw: string): { id?: string; message: string } {
  const result = parseClientMessage(raw);
  if (result.ok) throw new Error(`accepted ${raw.slice(0, 80)}`);
  expect(result.message.length).toBeGreaterThan(0);
  return result;
}

/** A frame through the envelope and then Connect Four's own schema, as the node checks it. */
function checkMove(value: unknown) {
  const parsed = parseClientMessage(frame(value));
  if (!parsed.ok) return parsed;
  if (parsed.message.type !== "action") throw new Error("not a game action");
  return checkGameAction(connectFour, parsed.message as GameActionRequest);
}

describe("parseClientMessage: valid frames", () => {
  it("accepts the engine's frames and passes any other type on as a game action", () => {
    expect(parseClientMessage(frame({ type: "move", id: "m1", column: 3 }))).toEqual({
      ok: true,
      message: { type: "action", id: "m1", name: "move", payload: { column: 3 } },
    });
    expect(parseClientMessage(frame({ type: "dm", id: "d1", to: "p2", text: "hi" }))).toMatchObject({ ok: true });
    expect(parseClientMessage(frame({ type: "leave", id: "l1" }))).toMatchObject({ ok: true });
    expect(parseClientMessage(frame({ type: "signal", data: { x: 1, y: 2 } }))).toMatchObject({ ok: true });
    expect(parseClientMessage(frame({ type: "signal", to: "p2", data: "typing" }))).toMatchObject({ ok: true });
  });

  it("trims chat text and accepts exactly the maximum length", () => {
    expect(parseClientMessage(frame({ type: "chat", id: "c", text: "  hello  " }))).toEqual({
      ok: true,
      message: { type: "chat", id: "c", text: "hello" },
    });
    const longest = "x".repeat(MAX_CHAT_CHARS);
    expect(parseClientMessage(frame({ type: "chat", id: "c", text: longest }))).toMatchObject({ ok: true });
  });

  it("checks game actions with the game's own schema, strictly", () => {
    expect(checkMove({ type: "move", id: "m", column: 0 })).toEqual({ ok: true, action: { type: "move", column: 0 } });
    expect(checkMove({ type: "rematch", id: "r" })).toEqual({ ok: true, action: { type: "rematch" } });
    for (const column of [-1, 7, 3.5, "3", 1e300, null]) {
      expect(checkMove({ type: "move", id: "a", column })).toMatchObject({ ok: false, code: "bad_message" });
    }
    expect(checkMove({ type: "move", id: "a" })).toMatchObject({ ok: false, code: "bad_message" });
    expect(checkMove({ type: "move", id: "a", column: 3, row: 0 })).toMatchObject({ ok: false, code: "bad_message" });
    expect(checkMove({ type: "rematch", id: "a", force: true })).toMatchObject({ ok: false, code: "bad_message" });
    expect(checkMove({ type: "fly", id: "a" })).toMatchObject({ ok: false, code: "unknown_action" });
    // Names that live on Object.prototype are not actions.
    for (const type of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const result = checkMove({ type, id: "a" });
      expect(result.ok).toBe(false);
    }
  });

  it("checks create options with the game's schema", () => {
    expect(checkGameOptions(connectFour, {})).toEqual({ ok: true, options: {} });
    expect(checkGameOptions(connectFour, undefined)).toEqual({ ok: true, options: {} });
    expect(checkGameOptions(connectFour, { cheat: true })).toMatchObject({ ok: false });
    expect(checkGameOptions(connectFour, { note: "a\u0000" })).toMatchObject({ ok: false });
  });
});

describe("parseClientMessage: hostile frames", () => {
  it("rejects frames that are not JSON objects", () => {
    for (const raw of ["", "{", "not json", "{'type':'move'}", "[]", "[1,2]", "null", "42", '"move"', "true"]) {
      expect(expectRejected(raw).id).toBeUndefined();
    }
  });

  it("rejects missing or odd types", () => {
    for (const value of [{ id: "a" }, { type: 1, id: "a" }, { type: "", id: "a" }, { type: "x".repeat(33), id: "a" }]) {
      expectRejected(frame(value));
    }
  });

  it("rejects wrong field types and extra fields on the engine's frames, since the schemas are strict", () => {
    for (const value of [
      { type: "move", id: 1, column: 3 },
      { type: "chat", id: "a", text: 5 },
      { type: "chat", id: "a", text: ["hi"] },
      { type: "chat", id: "a", text: "hi", playerId: "someone-else" },
      { type: "dm", id: "a", to: "", text: "hi" },
      { type: "dm", id: "a", to: "x".repeat(33), text: "hi" },
      { type: "leave", id: "a", now: true },
      { type: "signal", data: 1, extra: 2 },
    ]) {
      expectRejected(frame(value));
    }
  });

  it("rejects over-long, empty and whitespace-only chat", () => {
    for (const text of ["x".repeat(MAX_CHAT_CHARS + 1), "y".repeat(100_000), "", "   ", "\n\t "]) {
      expectRejected(frame({ type: "chat", id: "a", text }));
    }
  });

  it("rejects strings Postgres cannot store, anywhere in a frame, keys included", () => {
    const bad = ["x\u0000y", "\ud800", "a\udfffb", "\udc00\ud800"];
    for (const text of bad) {
      expectRejected(frame({ type: "chat", id: "a", text }));
      expectRejected(frame({ type: "dm", id: "a", to: "p2", text }));
      expectRejected(frame({ type: "move", id: text, column: 1 }));
      expectRejected(frame({ type: "place", id: "a", ships: [{ name: text }] }));
      expectRejected(frame({ type: "signal", data: { [text]: 1 } }));
    }
    // A correctly paired surrogate (an emoji) is fine.
    expect(parseClientMessage(frame({ type: "chat", id: "a", text: "gg 🎉" }))).toMatchObject({ ok: true });
    expect(findUnstorableText({ a: ["ok", { b: "x\u0000" }] })).toBe("a.1.b");
  });

  it("rejects empty and over-long action ids", () => {
    expectRejected(frame({ type: "rematch", id: "" }));
    expectRejected(frame({ type: "rematch", id: "x".repeat(65) }));
    expect(parseClientMessage(frame({ type: "rematch", id: "x".repeat(64) }))).toMatchObject({ ok: true });
  });

  it("keeps the client's id in the error so the client can match it", () => {
    expect(expectRejected(frame({ type: "chat", id: "c1", text: "" })).id).toBe("c1");
    expect(expectRejected(frame({ type: "chat", id: "c2", text: "\u0000" })).id).toBe("c2");
    // An over-long id is still echoed, cut to the maximum id length.
    expect(expectRejected(frame({ type: "rematch", id: "x".repeat(1000) })).id).toBe("x".repeat(64));
    expect(expectRejected(frame({ type: "rematch", id: 5 })).id).toBeUndefined();
  });

  it("never throws on deeply nested or huge input", () => {
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    expect(() => parseClientMessage(deep)).not.toThrow();
    const nested = JSON.parse(`${'{"a":'.repeat(2000)}1${"}".repeat(2000)}`);
    const refused = expectRejected(frame({ type: "move", id: "a", nested }));
    expect(refused.id).toBe("a");
    // Named for what it is: too deep, not a character Postgres refuses.
    expect(refused.message).toMatch(/nested deeper than 32 levels$/);
    expect(expectRejected(frame({ type: "chat", id: "a", text: "\u0000" })).message).toMatch(/^text: NUL/);
    expectRejected(frame({ type: "chat", id: "a", text: "z".repeat(1_000_000) }));
  });
});
