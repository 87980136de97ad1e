import { describe, expect, it } from "vitest";
import { newPlayerId, signToken, verifyToken } from "../../shared/token.js";

const SECRET = "test-secret-0123456789";

describe("player tokens", () => {
  it("round-trips code and player", () => {
    const id = newPlayerId();
    expect(verifyToken(SECRET, signToken(SECRET, "ABCDEF", id))).toEqual({ code: "ABCDEF", playerId: id });
  });

  it("rejects tokens for another lobby, another player, another key, and garbage", () => {
    const id = newPlayerId();
    const token = signToken(SECRET, "ABCDEF", id);
    const [, , mac] = token.split(".");
    expect(verifyToken(SECRET, `ABCDEG.${id}.${mac}`)).toBeNull();
    expect(verifyToken(SECRET, `ABCDEF.${newPlayerId()}.${mac}`)).toBeNull();
    expect(verifyToken("another-secret-0123456789", token)).toBeNull();
    expect(verifyToken(SECRET, `abcdef.${id}.${mac}`)).toBeNull();
    for (const bad of [undefined, null, 42, {}, "", "a.b.c", "x".repeat(10_000), `${token}.extra`]) {
      expect(verifyToken(SECRET, bad)).toBeNull();
    }
  });
});
