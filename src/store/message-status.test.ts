import { describe, expect, it } from 'vitest';
import { messageStatusOf } from './message-status.ts';

describe('message status', () => {
  it('is pending while any delivery is under way, succeeded when all did, failed otherwise, none without deliveries', () => {
    expect(messageStatusOf([])).toBe('none');
    expect(messageStatusOf(['succeeded'])).toBe('succeeded');
    expect(messageStatusOf(['succeeded', 'succeeded'])).toBe('succeeded');
    expect(messageStatusOf(['pending'])).toBe('pending');
    expect(messageStatusOf(['failed', 'sending'])).toBe('pending');
    expect(messageStatusOf(['succeeded', 'pending'])).toBe('pending');
    expect(messageStatusOf(['succeeded', 'failed'])).toBe('failed');
    expect(messageStatusOf(['failed'])).toBe('failed');
    // A terminal state other than succeeded (one a later release adds) counts as not delivered.
    expect(messageStatusOf(['succeeded', 'skipped'])).toBe('failed');
  });
});
