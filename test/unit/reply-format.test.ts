import fc from 'fast-check';
import { answerParts, DM_MAX_CHARS, formatOccurrence, formatSolution, htmlToText, splitForDm } from '../../functions/core/reply-format';

const graphemesOf = (s: string) => Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s), (g) => g.segment);
const hasLoneSurrogateAtEdge = (s: string) => /^[\uDC00-\uDFFF]/.test(s) || /[\uD800-\uDBFF]$/.test(s);

describe('reply format', () => {
  it('sends an agent occurrence as its plain text', () => {
    expect(formatOccurrence('<p>Olá Maria,</p><p>já verificamos &amp; o acesso foi <b>liberado</b>.</p>')).toBe(
      'Olá Maria,\njá verificamos & o acesso foi liberado.',
    );
  });

  it('leaves plain text with angle brackets and emoji alone', () => {
    expect(htmlToText('2 < 3 e 5 > 4 😀')).toBe('2 < 3 e 5 > 4 😀');
  });

  it('removes bidi overrides and isolates, control characters and invisible formatting, from text and entities', () => {
    const rlo = 'Acesse https://exemplo.com/\u202Egnp.exe\u202C agora';
    expect(formatOccurrence(rlo)).toBe('Acesse https://exemplo.com/gnp.exe agora');
    expect(formatOccurrence('<p>a&#x202E;b&#8238;c</p>')).toBe('abc');
    const hidden = 'x\u202Ay\u202Bz\u202Dw\u2066v\u2067u\u2068t\u2069s\u200Br\u200Cq\u2060p\uFEFFo\u00ADn\u0000m\u0007l\u001Bk\u007Fj\u0085i\u061Ch\u200Eg\u200Ff\u3164e\uD800d';
    expect(formatOccurrence(hidden)).toBe('xyzwvutsrqponmlkjihgfed');
    expect(formatOccurrence('linha 1\nlinha\t2\u2028linha 3')).toBe('linha 1\nlinha\t2\nlinha 3');
  });

  it('keeps emoji sequences whole: ZWJ families, skin tones, keycaps, flags and subdivision flags', () => {
    const emoji = 'Oi 👨\u200D👩\u200D👧\u200D👦 👍🏽 1️⃣ 🇧🇷 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F} 🏳️\u200D🌈';
    expect(formatOccurrence(emoji)).toBe(emoji);
    // A joiner between letters is no emoji: it goes.
    expect(formatOccurrence('pay\u200Dpal.com')).toBe('paypal.com');
  });

  it('cleans the solution text too', () => {
    expect(formatSolution({ requestNumber: '7', status: 'Resolvida', solution: 'ok\u202Etxt.exe' })).toContain('oktxt.exe');
  });

  it('sends an answer that fits in the allowed DMs whole, in order', () => {
    const text = `${'a '.repeat(7_000)}fim`;
    const parts = answerParts(text, '4000', 3);
    expect(parts).toHaveLength(2);
    expect(parts.join('')).toBe(text);
  });

  it('bounds a 300 KB answer to the allowed DMs, the last saying where to read the rest', () => {
    const text = 'palavra '.repeat(300_000 / 8);
    const parts = answerParts(text, '4000', 3);
    expect(parts).toHaveLength(3);
    expect(parts.every((p) => p.length <= DM_MAX_CHARS)).toBe(true);
    expect(text.startsWith(parts.slice(0, 2).join(''))).toBe(true);
    expect(parts[2]).toMatch(/solicitação nº 4000: leia-a completa no portal de atendimento\.$/);
    expect(answerParts(text, '4000', 1)).toHaveLength(1);
  });

  it('cleans and splits a 300 KB answer in linear time, emoji sequences whole', () => {
    const text = `<p>${'Relatório 👨\u200D👩\u200D👧\u200D👦 concluído. '.repeat(10_000)}</p>`;
    const started = Date.now();
    const parts = answerParts(formatOccurrence(text), '4000', 3);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(parts).toHaveLength(3);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(DM_MAX_CHARS);
      expect(p).not.toMatch(/\u200D(?!👩|👧|👦)|(?<!👨|👩|👧)\u200D/u);
    }
    expect(parts[2]).toMatch(/solicitação nº 4000: leia-a completa no portal de atendimento\.$/);
  });

  it('announces a resolved request with its solution and how to start again', () => {
    const text = formatSolution({ requestNumber: '4021', status: 'Resolvida', solution: 'Senha redefinida.' });
    expect(text).toBe('Sua solicitação nº 4021 foi concluída.\n\nSenha redefinida.\n\nSe precisar de algo mais, é só enviar uma nova mensagem.');
  });

  it('says a cancelled request was cancelled, even without a solution text', () => {
    expect(formatSolution({ requestNumber: '7', status: 'Cancelada' })).toBe(
      'Sua solicitação nº 7 foi cancelada.\n\nSe precisar de algo mais, é só enviar uma nova mensagem.',
    );
  });

  it('keeps a text of exactly 10,000 characters in one DM', () => {
    const text = 'a'.repeat(DM_MAX_CHARS);
    expect(splitForDm(text)).toEqual([text]);
  });

  it('splits a longer text at a space, into DMs that rejoin to the original', () => {
    const text = `${'palavra '.repeat(1500)}fim`;
    const parts = splitForDm(text);
    expect(parts.length).toBe(2);
    expect(parts.join('')).toBe(text);
    expect(parts[0].endsWith(' ')).toBe(true);
    expect(parts.every((p) => p.length <= DM_MAX_CHARS)).toBe(true);
  });

  it('never cuts an emoji, a flag or a family emoji in half', () => {
    const text = '👨‍👩‍👧‍👦🇧🇷😀'.repeat(1200);
    const parts = splitForDm(text, 1000);
    expect(parts.join('')).toBe(text);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(1000);
      expect(hasLoneSurrogateAtEdge(p)).toBe(false);
    }
    expect(parts.flatMap(graphemesOf)).toEqual(graphemesOf(text));
  });

  it('splits any text on grapheme boundaries within the limit (property)', () => {
    const unit = fc.constantFrom('a', ' ', '\n', 'é', 'e\u0301', '😀', '🇧🇷', '👍🏽', '👩‍💻', '中');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 400 }).map((a) => a.join('')), fc.integer({ min: 12, max: 60 }), (text, limit) => {
        const parts = splitForDm(text, limit);
        expect(parts.join('')).toBe(text);
        for (const p of parts) expect(p.length).toBeLessThanOrEqual(limit);
        expect(parts.flatMap(graphemesOf)).toEqual(graphemesOf(text));
      }),
    );
  });
});
