import fc from 'fast-check';
import { sqsJson } from '../../functions/adapters/sqs-json';

describe('SQS message body JSON', () => {
  it('writes emoji as escapes that parse back to the same text', () => {
    const body = sqsJson({ text: 'Olá 👍🏽🇧🇷 ação' });
    expect(body).not.toMatch(/[\uD800-\uDFFF]/);
    expect(JSON.parse(body)).toEqual({ text: 'Olá 👍🏽🇧🇷 ação' });
  });

  it('round-trips any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const body = sqsJson({ text });
        expect(body).not.toMatch(/[\uD800-\uDFFF]/);
        expect(JSON.parse(body)).toEqual({ text });
      }),
    );
  });
});
