import { describe, expect, it } from "vitest";
import { MAX_CHAT_CHARS, parseClientMessage } from "../../shared/protocol.js";

const frame = (value: unknown): string => JSON.stringify(value);

function expectRejected(raw: string): { id?: string; message: string } {
  const result = parseClientMessage(raw);
  if (result.ok) throw new Error(`accepted ${raw.slice(0, 80)}`);
  expect(result.message.length).toBeGreaterThan(0);
  return result;
}

describe("parseClientMessage: valid frames", () => {
  it("accepts each client message type", () => {
    expect(parseClientMessage(frame({ type: "move", id: "m1", column: 3 }))).toEqual({
      ok: true,
      message: { type: "move", id: "m1", column: 3 },
    });
    expect(parseClientMessage(frame({ type: "rematch", id: "r1" }))).toMatchObject({ ok: true });
    expect(parseClientMessage(frame({ type: "dm", id: "d1", to: "p2", text: "hi" }))).toMatchObject({ ok: true });
    for (const column of [0, 6]) {
      expect(parseClientMessage(frame({ type: "move", id: "m", column }))).toMatchObject({ ok: true });
    }
  });

  it("trims chat text and accepts exactly the maximum length", () => {
    expect(parseClientMessage(frame({ type: "chat", id: "c", text: "  hello  " }))).toEqual({
      ok: true,
      message: { type: "chat", id: "c", text: "hello" },
    });
    const longest = "x".repeat(MAX_CHAT_CHARS);
    expect(parseClientMessage(frame({ type: "chat", id: "c", text: longest }))).toMatchObject({ ok: true });
  });
});

describe("parseClientMessage: hostile frames", () => {
  it("rejects frames that are not JSON objects", () => {
    for (const raw of ["", "{", "not json", "{'type':'move'}", "[]", "[1,2]", "null", "42", '"move"', "true"]) {
      expect(expectRejected(raw).id).toBeUndefined();
    }
  });

  it("rejects unknown and missing types", () => {
    for (const value of [
      { id: "a" },
      { type: "nope", id: "a" },
      { type: 1, id: "a" },
      { type: "__proto__", id: "a" },
    ]) {
      expectRejected(frame(value));
    }
  });

  it("rejects wrong field types and extra fields, since the schemas are strict", () => {
    for (const value of [
      { type: "move", id: 1, column: 3 },
      { type: "move", id: "a" },
      { type: "move", id: "a", column: null },
      { type: "chat", id: "a", text: 5 },
      { type: "chat", id: "a", text: ["hi"] },
      { type: "rematch", id: "a", force: true },
      { type: "move", id: "a", column: 3, row: 0 },
      { type: "chat", id: "a", text: "hi", playerId: "someone-else" },
      { type: "dm", id: "a", to: "", text: "hi" },
      { type: "dm", id: "a", to: "x".repeat(33), text: "hi" },
    ]) {
      expectRejected(frame(value));
    }
  });

  it("rejects columns off the board or not integers", () => {
    for (const column of [-1, 7, 3.5, "3", 1e300]) {
      expectRejected(frame({ type: "move", id: "a", column }));
    }
  });

  it("rejects over-long, empty and whitespace-only chat", () => {
    for (const text of ["x".repeat(MAX_CHAT_CHARS + 1), "y".repeat(100_000), "", "   ", "\n\t "]) {
      expectRejected(frame({ type: "chat", id: "a", text }));
    }
  });

  it("rejects empty and over-long action ids", () => {
    expectRejected(frame({ type: "rematch", id: "" }));
    expectRejected(frame({ type: "rematch", id: "x".repeat(65) }));
    expect(parseClientMessage(frame({ type: "rematch", id: "x".repeat(64) }))).toMatchObject({ ok: true });
  });

  it("keeps the client's id in the error so the client can match it", () => {
    expect(expectRejected(frame({ type: "move", id: "m7", column: 9 })).id).toBe("m7");
    expect(expectRejected(frame({ type: "nope", id: "n1" })).id).toBe("n1");
    expect(expectRejected(frame({ type: "chat", id: "c1", text: "" })).id).toBe("c1");
    // An over-long id is still echoed, cut to the maximum id length.
    expect(expectRejected(frame({ type: "rematch", id: "x".repeat(1000) })).id).toBe("x".repeat(64));
    expect(expectRejected(frame({ type: "rematch", id: 5 })).id).toBeUndefined();
  });

  it("never throws on deeply nested or huge input", () => {
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    expect(() => parseClientMessage(deep)).not.toThrow();
    expectRejected(frame({ type: "chat", id: "a", text: "z".repeat(1_000_000) }));
  });
});
