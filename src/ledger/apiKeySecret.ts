/** API-key secrets: 32 random bytes, shown once, stored only as a SHA-256 hash. */
import { createHash, randomBytes } from 'node:crypto';

const secretPrefix = 'pd_';
const secretBytes = 32;
/** How much of the secret is kept in clear for people to recognise a key: the prefix plus 6 characters. */
const displayPrefixLength = secretPrefix.length + 6;

export function generateSecret(): string {
  return `${secretPrefix}${randomBytes(secretBytes).toString('base64url')}`;
}

/** A fast hash is enough: the secret has 256 bits of entropy, so there is nothing to brute-force. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function displayPrefixOf(secret: string): string {
  return secret.slice(0, displayPrefixLength);
}

/** The secret's last 6 characters, kept in clear like Venice's `last6Chars`: too few to guess the rest from. */
export function secretLast6Of(secret: string): string {
  return secret.slice(-6);
}
