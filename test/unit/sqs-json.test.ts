import fc from 'fast-check';
import { sqsJson } from '../../functions/adapters/sqs-json';

describe('SQS message body JSON', () => {
  it('keeps emoji as UTF-8 (SQS takes #x10000–#x10FFFF): 4 bytes each instead of a 12-byte pair of escapes', () => {
    const body = sqsJson({ text: 'Olá 👍🏽🇧🇷 ação' });
    expect(body).toBe('{"text":"Olá 👍🏽🇧🇷 ação"}');
    expect(JSON.parse(body)).toEqual({ text: 'Olá 👍🏽🇧🇷 ação' });
  });

  it('escapes paired surrogates too for an emulator that refuses them', () => {
    const body = sqsJson({ text: 'Olá 👍🏽🇧🇷 ação' }, { escapePairs: true });
    expect(body).not.toMatch(/[\uD800-\uDFFF]/);
    expect(JSON.parse(body)).toEqual({ text: 'Olá 👍🏽🇧🇷 ação' });
  });

  it('round-trips any string and writes only characters SQS accepts (property)', () => {
    // SQS's allowed set, read by code point: a lone surrogate or U+FFFE/U+FFFF is refused.
    // eslint-disable-next-line no-control-regex -- SQS's list names these three control characters
    const sqsAllowed = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.boolean(), (text, escapePairs) => {
        const body = sqsJson({ text }, { escapePairs });
        expect(body).toMatch(sqsAllowed);
        expect(JSON.parse(body)).toEqual({ text });
      }),
    );
  });
});
