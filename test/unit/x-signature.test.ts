import { answerCrc } from '../../functions/core/crc';
import { signPayload, verifySignature } from '../../functions/core/x-signature';
import { fixtureBytes, fixtureNames, vectors } from '../support/x-fixtures';

describe('CRC answer', () => {
  it("equals X's expected response token for the fixture token", () => {
    expect(answerCrc(vectors.consumerSecret, vectors.crcToken)).toEqual({
      ok: true,
      body: { response_token: vectors.expectedResponseToken },
    });
  });

  it.each([undefined, null, ''])('refuses a missing or empty token (%p)', (token) => {
    expect(answerCrc(vectors.consumerSecret, token)).toEqual({ ok: false, reason: 'missing crc_token' });
  });
});

describe('webhook signature', () => {
  it.each(fixtureNames)('accepts %s with the signature X sent', (name) => {
    expect(verifySignature(vectors.consumerSecret, fixtureBytes(name), vectors.signatures[name])).toBe(true);
  });

  it('computes the same header value X sends', () => {
    expect(signPayload(vectors.consumerSecret, fixtureBytes('dm-received.json'))).toBe(vectors.signatures['dm-received.json']);
  });

  it('rejects a body with one flipped byte', () => {
    const body = Buffer.from(fixtureBytes('dm-received.json'));
    body[body.length - 5] ^= 0x01;
    expect(verifySignature(vectors.consumerSecret, body, vectors.signatures['dm-received.json'])).toBe(false);
  });

  it('rejects the right body signed with another secret', () => {
    const body = fixtureBytes('dm-received.json');
    expect(verifySignature(vectors.consumerSecret, body, signPayload('another-secret', body))).toBe(false);
  });

  it.each([undefined, '', 'sha256=', 'sha1=abc', 'garbage', `sha256=${'A'.repeat(44)}`])('rejects header %p', (h) => {
    expect(verifySignature(vectors.consumerSecret, fixtureBytes('dm-received.json'), h)).toBe(false);
  });
});
