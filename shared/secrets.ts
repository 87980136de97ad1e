/**
 * No process runs in production with a development secret (invariant 7).
 * The admin token and the player-token secret are required, long and not the
 * published development values, unless the process runs in development mode:
 * RINGSIDE_DEV=1, which `npm start` and the test and benchmark launchers set,
 * and which is itself refused when NODE_ENV=production. A part started by
 * hand (`npm run start:balancer`, a container) without real secrets refuses
 * to start, with a message naming the variable.
 */

export const DEV_ADMIN_TOKEN = "dev-admin-token";
export const DEV_TOKEN_SECRET = "dev-token-secret-change-me";

export type SecretName = "RINGSIDE_ADMIN_TOKEN" | "RINGSIDE_TOKEN_SECRET";

type SecretRule = { devDefault: string; minLength: number; what: string };

/**
 * Admin token: 24 characters (a 128-bit random value is 22 in base64, 32 in
 * hex). Token secret: 32 characters, an HMAC-SHA256 key of at least 192 bits
 * even in hex. Both need 8 different characters, which catches "aaaa..."
 * and "1234..." placeholders and no random value.
 */
export const SECRET_RULES: Readonly<Record<SecretName, SecretRule>> = {
  RINGSIDE_ADMIN_TOKEN: { devDefault: DEV_ADMIN_TOKEN, minLength: 24, what: "the bearer token for /admin" },
  RINGSIDE_TOKEN_SECRET: { devDefault: DEV_TOKEN_SECRET, minLength: 32, what: "the HMAC key of player tokens" },
};

const MIN_DISTINCT_CHARS = 8;
/** Development mode still wants a set value to be more than a few characters. */
const DEV_MIN_LENGTH = 8;

const TRUE = new Set(["1", "true", "on", "yes"]);

/** Development mode: RINGSIDE_DEV on; an error when that is asked for under NODE_ENV=production. */
export function developmentMode(env: NodeJS.ProcessEnv): boolean {
  const dev = TRUE.has((env.RINGSIDE_DEV ?? "").toLowerCase());
  if (dev && env.NODE_ENV === "production") {
    throw new SecretError(
      "RINGSIDE_DEV",
      "RINGSIDE_DEV=1 (development defaults) is refused with NODE_ENV=production: set real secrets instead",
    );
  }
  return dev;
}

export class SecretError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** The secret to use, or a SecretError naming the variable and what is wrong with it. */
export function resolveSecret(name: SecretName, env: NodeJS.ProcessEnv): string {
  const rule = SECRET_RULES[name];
  const value = env[name] || undefined;
  const dev = developmentMode(env);
  if (dev) {
    if (value === undefined) return rule.devDefault;
    if (value.length < DEV_MIN_LENGTH)
      throw new SecretError(name, `${name} must be at least ${DEV_MIN_LENGTH} characters`);
    return value;
  }
  const how = `set ${name} (${rule.what}) to a random value of at least ${rule.minLength} characters, e.g. \`openssl rand -base64 32\``;
  const mode =
    env.NODE_ENV === "production"
      ? "with NODE_ENV=production"
      : "outside development mode (RINGSIDE_DEV=1, which npm start sets)";
  if (value === undefined) throw new SecretError(name, `${name} is not set, and there is no default ${mode}: ${how}`);
  if (value === rule.devDefault || value === DEV_ADMIN_TOKEN || value === DEV_TOKEN_SECRET) {
    throw new SecretError(name, `${name} is the published development value, refused ${mode}: ${how}`);
  }
  if (value.length < rule.minLength) {
    throw new SecretError(name, `${name} is ${value.length} characters, too short ${mode}: ${how}`);
  }
  if (new Set(value).size < MIN_DISTINCT_CHARS) {
    throw new SecretError(name, `${name} has fewer than ${MIN_DISTINCT_CHARS} different characters: ${how}`);
  }
  return value;
}
