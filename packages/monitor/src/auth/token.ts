// The monitor's access token (a credential, unlike Baton's counter tokens): made at random
// for each monitor unless the user sets one, and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The environment variable that sets the token (e.g. to keep one URL across restarts). */
export const TOKEN_VARIABLE = 'BATON_MONITOR_TOKEN';

/** A new token: 32 random bytes, base64url (43 characters, safe in a URL). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * True when `given` is the token. Both are hashed first, so the comparison runs on two
 * values of equal length and takes the same time whatever `given` is (its length included).
 */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
