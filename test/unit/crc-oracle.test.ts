import fc from 'fast-check';
import { testObservability } from '../support/observability';
import { createCrcHandler } from '../../functions/crc/handler';
import { answerCrc } from '../../functions/core/crc';
import { staticSecretSource } from '../../functions/adapters/secrets';
import { fixtureBytes, httpEvent, lambdaContext, testSecret, vectors } from '../support/x-fixtures';

/** The CRC endpoint must never sign what could be a delivery body (issue 8 §1). */
describe('CRC is no signing oracle', () => {
  it('refuses every string that parses as a JSON object or array', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return;
        }
        if (typeof parsed !== 'object' || parsed === null) return;
        expect(answerCrc(vectors.consumerSecret, text).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('signs tokens of the base64/base64url alphabet, 1–255 characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/=_-]{1,255}$/), (token) => {
        expect(answerCrc(vectors.consumerSecret, token).ok).toBe(true);
      }),
    );
    expect(answerCrc(vectors.consumerSecret, 'a'.repeat(256)).ok).toBe(false);
  });

  it('answers a delivery body with 400 and a CrcRejected metric, never a signature, and logs no token', async () => {
    const observability = testObservability();
    const warn = jest.spyOn(observability.logger, 'warn').mockImplementation(() => undefined);
    const handler = createCrcHandler({ ...observability, secrets: staticSecretSource(testSecret) });
    const body = fixtureBytes('dm-received.json').toString('utf8');
    const res = await handler(httpEvent({ method: 'GET', query: { crc_token: body } }), lambdaContext);
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('sha256=');
    expect(observability.published()).toEqual({ CrcRejected: 1 });
    expect(warn).toHaveBeenCalled();
    expect(JSON.stringify(warn.mock.calls)).not.toContain('for_user_id');
  });
});
