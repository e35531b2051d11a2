import { z } from 'zod';

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Zod's default messages say "Invalid input: expected string, received undefined"; the API's say what
 * the field needed in the words a client reads: `required (expected string)`, `expected number, got string`,
 * `unknown field`. Schemas' own messages (e.g. "must be an ISO 8601 date-time") take precedence.
 * Set once, when the app is built (zod's configuration is global to the process).
 */
export function useFieldMessages(): void {
  z.config({
    customError: (issue) => {
      switch (issue.code) {
        case 'invalid_type':
          return issue.input === undefined
            ? `required (expected ${issue.expected})`
            : `expected ${issue.expected}, got ${kind(issue.input)}`;
        case 'unrecognized_keys':
          return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
        default:
          return undefined;
      }
    },
  });
}
