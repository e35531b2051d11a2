// The CLI's API commands' shared options, argument parsers and error reporting.
import { InvalidArgumentError, type Command } from 'commander';
import { TramlineError } from '../../sdk/src/index.ts';
import type { ListOpts } from './api-output.ts';

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
export const jsonArg = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('expected JSON');
  }
};
export const csv = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
export const keyValue = (v: string, prev: Record<string, string> = {}): Record<string, string> => {
  const i = v.indexOf('=');
  if (i < 1) throw new InvalidArgumentError('expected key=value');
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
};

/** Problems print as the gateway states them, with the fields it names. */
export function explain(err: unknown): Error {
  if (!(err instanceof TramlineError)) return err as Error;
  const lines = [`${err.title}${err.status ? ` (${err.status})` : ''}${err.detail && err.detail !== err.title ? `: ${err.detail}` : ''}`];
  for (const e of err.errors) lines.push(`  ${e.field}: ${e.message}`);
  return new Error(lines.join('\n'));
}

export const conn = (cmd: Command): Command =>
  cmd
    .option('--profile <name>', 'use this profile of ~/.config/tramline/profiles.json')
    .option('--url <url>', 'the gateway (default: TRAMLINE_URL, the profile’s, or http://localhost:8080)')
    .option('--json', 'print JSON instead of a table');
export const paging = (cmd: Command): Command =>
  conn(cmd)
    .option('--limit <n>', 'items per page', positiveInt)
    .option('--cursor <cursor>', 'start after an earlier page')
    .option('--all', 'every page');

/** Commander passes (…arguments, options, command): the action gets the arguments and the options. */
export function act<A extends unknown[]>(fn: (opts: ListOpts & Record<string, unknown>, ...args: A) => Promise<void>) {
  return async (...argv: unknown[]): Promise<void> => {
    const cmd = argv[argv.length - 1] as Command;
    const args = argv.slice(0, -2) as A;
    try {
      await fn(cmd.opts(), ...args);
    } catch (err) {
      throw explain(err);
    }
  };
}

export const pageParams = (o: ListOpts) => ({ ...(o.limit ? { limit: o.limit } : {}), ...(o.cursor ? { cursor: o.cursor } : {}) });
