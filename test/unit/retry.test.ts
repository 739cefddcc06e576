import fc from 'fast-check';
import { classifyError, classifyHttpStatus, PermanentError, TransientError } from '../../functions/core/errors';
import { backoffSeconds, MAX_VISIBILITY_SECONDS, secondsUntil } from '../../functions/core/retry';

describe('back-off between delivery attempts', () => {
  const opts = { baseSeconds: 2, maxSeconds: 900 };

  it('waits the base delay on the first receive whatever the jitter', () => {
    expect(backoffSeconds(1, opts, () => 0)).toBe(2);
    expect(backoffSeconds(1, opts, () => 0.999)).toBe(2);
  });

  it('doubles the ceiling with each receive (full jitter up to base * 2^(n-1))', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffSeconds(n, opts, () => 1))).toEqual([2, 4, 8, 16, 32]);
    expect(backoffSeconds(5, opts, () => 0)).toBe(2);
    expect(backoffSeconds(5, opts, () => 0.5)).toBe(17);
  });

  it('never exceeds the configured maximum, nor SQS’s 12-hour visibility limit', () => {
    expect(backoffSeconds(40, opts, () => 1)).toBe(900);
    expect(backoffSeconds(1_000, { baseSeconds: 60, maxSeconds: 10 ** 9 }, () => 1)).toBe(MAX_VISIBILITY_SECONDS);
  });

  it('stays within [base, max(base, min(max, base·2^(n-1)))] for any receive count and jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 43_200 }), (n, r, base, max) => {
        const s = backoffSeconds(n, { baseSeconds: base, maxSeconds: max }, () => r);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(base);
        expect(s).toBeLessThanOrEqual(Math.max(base, Math.min(max, base * 2 ** (n - 1))));
      }),
    );
  });

  it('treats a missing or nonsense receive count as the first attempt', () => {
    expect(backoffSeconds(0, opts, () => 1)).toBe(2);
    expect(backoffSeconds(-3, opts, () => 1)).toBe(2);
  });

  it('waits until a given reset time, at least a second', () => {
    expect(secondsUntil(10_500, 0)).toBe(11);
    expect(secondsUntil(0, 5_000)).toBe(1);
  });
});

describe('error classification', () => {
  it.each([400, 401, 403, 404, 409, 410, 413, 415, 422])('HTTP %i from 4biz is permanent', (status) => {
    expect(classifyHttpStatus(status)).toBe('permanent');
  });

  it.each([408, 429, 500, 502, 503, 504])('HTTP %i from 4biz is transient', (status) => {
    expect(classifyHttpStatus(status)).toBe('transient');
  });

  it('retries anything not explicitly permanent: losing a DM is worse than one more attempt', () => {
    expect(classifyError(new PermanentError('bad request', 400))).toBe('permanent');
    expect(classifyError(new TransientError('timeout'))).toBe('transient');
    expect(classifyError(new Error('ECONNRESET'))).toBe('transient');
    expect(classifyError('weird')).toBe('transient');
  });
});
