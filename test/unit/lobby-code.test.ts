import { describe, expect, it } from "vitest";
import { CODE_ALPHABET, generateLobbyCode, lobbyCodeSegment, parseLobbyCode } from "../../shared/lobby-code.js";

describe("lobby codes", () => {
  it("generates codes from the alphabet without look-alikes", () => {
    for (let i = 0; i < 1000; i++) {
      const code = generateLobbyCode();
      expect(parseLobbyCode(code)).toBe(code);
    }
    for (const c of "01OIL") expect(CODE_ALPHABET).not.toContain(c);
  });

  it("normalises case and rejects everything else", () => {
    expect(parseLobbyCode("abcdef")).toBe("ABCDEF");
    for (const bad of [
      "",
      "ABCDE",
      "ABCDEFG",
      "ABCDE0",
      "ABCDEO",
      "ABC DE",
      "__proto__",
      "constructor",
      "ÄBCDEF",
      null,
      123456,
      {},
    ]) {
      expect(parseLobbyCode(bad)).toBeNull();
    }
  });

  it("finds the code segment in public paths", () => {
    expect(lobbyCodeSegment("/api/lobbies/ABCDEF/join")).toEqual({ kind: "api", raw: "ABCDEF" });
    expect(lobbyCodeSegment("/ws/ABCDEF")).toEqual({ kind: "ws", raw: "ABCDEF" });
    expect(lobbyCodeSegment("/ws/%E0%A4%A")).toEqual({ kind: "ws", raw: "%E0%A4%A" });
    expect(lobbyCodeSegment("/api/lobbies")).toBeNull();
    expect(lobbyCodeSegment("/api/stats")).toBeNull();
  });
});
