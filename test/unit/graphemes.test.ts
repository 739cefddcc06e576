import fc from 'fast-check';
import { graphemes } from '../../functions/core/graphemes';

const whole = (s: string) => Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s), (g) => g.segment);

describe('graphemes', () => {
  it('finds the same clusters as one pass of Intl.Segmenter, whatever the window (property)', () => {
    // Units that test the windows' edges: CR LF, joiners, flags (pairs of regional indicators),
    // skin tones, keycaps, Indic conjuncts, prepended marks, lone surrogates.
    const unit = fc.constantFrom('a', ' ', '\r\n', '\r', '\n', '😀', '👍🏽', '🇧🇷', '🇧', '\u200D', '👨\u200D👩\u200D👧', 'e\u0301', '\u0301', '\uD800', '\uDC00', '1️⃣', 'क्ष', 'ก่', '\u0600', '中');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 120 }).map((a) => a.join('')), fc.integer({ min: 1, max: 20 }), (text, window) => {
        expect(Array.from(graphemes(text, window))).toEqual(whole(text));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a cluster longer than the window whole', () => {
    const long = `a${'\u0301'.repeat(5000)}`;
    expect(Array.from(graphemes(`x${long}y`, 16))).toEqual(['x', long, 'y']);
  });

  it('reads 300 KB of emoji in linear time (Intl.Segmenter alone takes minutes)', () => {
    const text = '👨\u200D👩\u200D👧\u200D👦😀🇧🇷'.repeat(20_000);
    const started = Date.now();
    let length = 0;
    let count = 0;
    for (const g of graphemes(text)) {
      length += g.length;
      count++;
    }
    expect(count).toBe(60_000);
    expect(length).toBe(text.length);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
