// Human-friendly durations for config and CLI flags ("5s", "30m", "1.5h").
// Units are lowercase only so "m" (minute) can never be misread as a month.

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/** Parses `0`, `250ms`, `5s`, `1.5s`, `5m`, `2h`, `1d` into whole milliseconds (rounded). */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const match = DURATION_RE.exec(trimmed);
  if (!match) {
    throw new Error(`Invalid duration "${text}": expected a non-negative number with a unit (ms, s, m, h, d), e.g. "250ms", "5s", "1.5h"`);
  }
  const value = Number(match[1]);
  const unit = match[2];
  if (unit === undefined) {
    // A bare number is ambiguous (ms? s?), so only zero is accepted without a unit.
    if (value !== 0) {
      throw new Error(`Invalid duration "${text}": missing unit (ms, s, m, h, d); only "0" may omit it`);
    }
    return 0;
  }
  const ms = Math.round(value * (UNIT_MS[unit] as number));
  if (!Number.isSafeInteger(ms)) {
    throw new Error(`Invalid duration "${text}": too large`);
  }
  return ms;
}

/** Parses a comma-separated list such as `0s,5s,5m,30m,2h` (spaces around items allowed). */
export function parseDurationList(text: string): number[] {
  if (text.trim() === '') {
    throw new Error('Invalid duration list: it is empty; expected e.g. "0s,5s,5m"');
  }
  return text.split(',').map((item, index) => {
    if (item.trim() === '') {
      throw new Error(`Invalid duration list "${text}": item ${index + 1} is empty`);
    }
    try {
      return parseDuration(item);
    } catch (err) {
      throw new Error(`Invalid duration list "${text}": item ${index + 1}: ${(err as Error).message}`);
    }
  });
}
