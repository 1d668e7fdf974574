import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The cookie a `?token=` page load sets, so the page's own requests carry the token. */
export const TOKEN_COOKIE = "email_scout_token";

/** Compares in constant time; hashing first makes the lengths equal, so the length does not leak either. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request presents: `Authorization: Bearer ...` first, then the cookie. */
export function presentedToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const bearer = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (bearer) return bearer;
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name !== TOKEN_COOKIE) continue;
    try {
      return decodeURIComponent(value.join("="));
    } catch {
      return undefined; // a malformed cookie presents no token: 401, not 500
    }
  }
  return undefined;
}

/**
 * HttpOnly: scripts never see it; SameSite=Strict: other sites cannot make the browser send it;
 * Secure when the dashboard serves HTTPS: the browser then never sends it over plain HTTP.
 */
export function tokenCookie(token: string, options: { secure: boolean }): string {
  const cookie = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
  return options.secure ? `${cookie}; Secure` : cookie;
}
