import { randomBytes } from 'node:crypto';
import { hash, verify, type Options } from '@node-rs/argon2';
import { AppError } from '../errors.ts';

/**
 * Passwords are stored as argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`), with OWASP's
 * minimum parameters: 19 MiB of memory and 2 passes make each guess cost an attacker memory, not
 * only time. Hashing runs on libuv's thread pool (a native addon), so it never blocks the event loop.
 * The parameters are in the string: raising them later still verifies older hashes.
 */
const ARGON2ID = 2; // Algorithm.Argon2id (a const enum the type declarations export but type-stripping cannot inline)
const OPTIONS: Options = { algorithm: ARGON2ID as Options['algorithm'], memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Length checks (NIST 800-63B: length, not composition rules); counted in code points, not UTF-16 units. */
export function checkPassword(password: string): void {
  const n = [...password].length;
  if (n < MIN_PASSWORD_LENGTH || n > MAX_PASSWORD_LENGTH) {
    throw new AppError('VALIDATION', `A password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`, {
      errors: [{ field: 'body.password', message: `must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters` }],
    });
  }
}

export const hashPassword = (password: string): Promise<string> => hash(password.normalize('NFC'), OPTIONS);

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFC'));
  } catch {
    return false; // not a PHC string we know: never a match
  }
}

let dummy: Promise<string> | null = null;

/**
 * Spends the time of one verification when there is no account to check against, so the answer
 * to an unknown email takes as long as a wrong password (no account enumeration by timing).
 */
export async function verifyDummy(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('base64url'));
  await verifyPassword(await dummy, password);
  return false;
}

/** A password for the operator's CLI when none is given: 24 characters from 144 random bits. */
export const generatePassword = (): string => randomBytes(18).toString('base64url');
