import { describe, expect, it } from "vitest";
import { ConnectionCaps } from "../../balancer/rate-limits.js";
import { loadBalancerConfig, loadNodeConfig } from "../../shared/config.js";
import { KeyedLimiter } from "../../shared/keyed-limiter.js";
import { DEV_ADMIN_TOKEN, DEV_TOKEN_SECRET, resolveSecret } from "../../shared/secrets.js";

/** Token buckets, connection caps, and the rule that no process runs in production with a development secret. */

describe("KeyedLimiter", () => {
  it("allows a burst, refuses with the wait until the next token, refills per key", () => {
    let now = 0;
    const limiter = new KeyedLimiter({ perSecond: 0.5, burst: 3 }, 100, () => now);
    for (let i = 0; i < 3; i++) expect(limiter.take("a")).toBeNull();
    expect(limiter.take("a")).toEqual({ retryAfterS: 2 });
    expect(limiter.take("b")).toBeNull();
    now = 1000;
    expect(limiter.take("a")).toEqual({ retryAfterS: 1 });
    now = 2000;
    expect(limiter.take("a")).toBeNull();
    expect(limiter.check("a")).toEqual({ retryAfterS: 2 });
    expect(limiter.check("never-seen")).toBeNull();
  });

  it("stays within maxKeys, dropping refilled buckets first", () => {
    let now = 0;
    const limiter = new KeyedLimiter({ perSecond: 1, burst: 2 }, 3, () => now);
    limiter.take("a");
    limiter.take("b");
    limiter.take("c");
    limiter.take("c");
    now = 1500; // a and b are full again, c is not
    limiter.take("d");
    expect(limiter.size).toBeLessThanOrEqual(3);
    expect(limiter.check("c")).toBeNull();
    limiter.take("c");
    expect(limiter.take("c")).not.toBeNull();
  });
});

describe("ConnectionCaps", () => {
  it("counts per key and in total, and gives back on release", () => {
    const caps = new ConnectionCaps({ perKey: 2, total: 3 });
    expect(caps.acquire("a")).toBe("ok");
    expect(caps.acquire("a")).toBe("ok");
    expect(caps.acquire("a")).toBe("per_key");
    expect(caps.acquire("b")).toBe("ok");
    expect(caps.acquire("c")).toBe("total");
    caps.release("a");
    expect(caps.acquire("c")).toBe("ok");
    caps.release("nobody");
    expect(caps.open).toBe(3);
  });
});

describe("secrets", () => {
  const strongToken = "Zq3v9kT1mX7pL2sR8wY4nB6c";
  const strongSecret = "c2f1e8d7a9b0c3d4e5f6a7b8c9d0e1f2";

  it("refuses missing, development, short and placeholder secrets outside development mode, naming the variable", () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{}, /RINGSIDE_ADMIN_TOKEN is not set/],
      [{ NODE_ENV: "production" }, /RINGSIDE_ADMIN_TOKEN is not set, and there is no default with NODE_ENV=production/],
      [{ RINGSIDE_ADMIN_TOKEN: DEV_ADMIN_TOKEN }, /RINGSIDE_ADMIN_TOKEN is the published development value/],
      [{ RINGSIDE_ADMIN_TOKEN: DEV_TOKEN_SECRET }, /RINGSIDE_ADMIN_TOKEN is the published development value/],
      [{ RINGSIDE_ADMIN_TOKEN: "short-but-random-Q1" }, /RINGSIDE_ADMIN_TOKEN is 19 characters, too short/],
      [{ RINGSIDE_ADMIN_TOKEN: "a".repeat(40) }, /fewer than 8 different characters/],
      [{ RINGSIDE_DEV: "1", NODE_ENV: "production" }, /RINGSIDE_DEV=1 .* refused with NODE_ENV=production/],
    ];
    for (const [env, message] of cases) {
      expect(() => resolveSecret("RINGSIDE_ADMIN_TOKEN", env), JSON.stringify(env)).toThrow(message);
    }
    expect(() => resolveSecret("RINGSIDE_TOKEN_SECRET", { RINGSIDE_TOKEN_SECRET: strongToken })).toThrow(
      /RINGSIDE_TOKEN_SECRET is 24 characters, too short/,
    );
  });

  it("takes real secrets anywhere, and development defaults only in development mode", () => {
    expect(resolveSecret("RINGSIDE_ADMIN_TOKEN", { NODE_ENV: "production", RINGSIDE_ADMIN_TOKEN: strongToken })).toBe(
      strongToken,
    );
    expect(resolveSecret("RINGSIDE_TOKEN_SECRET", { RINGSIDE_TOKEN_SECRET: strongSecret })).toBe(strongSecret);
    expect(resolveSecret("RINGSIDE_ADMIN_TOKEN", { RINGSIDE_DEV: "1" })).toBe(DEV_ADMIN_TOKEN);
    expect(resolveSecret("RINGSIDE_TOKEN_SECRET", { RINGSIDE_DEV: "1", NODE_ENV: "test" })).toBe(DEV_TOKEN_SECRET);
  });

  it("is checked when a part loads its configuration, each part for its own secret", () => {
    expect(() => loadBalancerConfig({ RINGSIDE_TOKEN_SECRET: strongSecret })).toThrow(/RINGSIDE_ADMIN_TOKEN/);
    expect(() => loadNodeConfig({ RINGSIDE_ADMIN_TOKEN: strongToken })).toThrow(/RINGSIDE_TOKEN_SECRET/);
    expect(loadBalancerConfig({ RINGSIDE_ADMIN_TOKEN: strongToken }).RINGSIDE_ADMIN_TOKEN).toBe(strongToken);
    expect(loadNodeConfig({ RINGSIDE_TOKEN_SECRET: strongSecret }).RINGSIDE_TOKEN_SECRET).toBe(strongSecret);
  });
});
