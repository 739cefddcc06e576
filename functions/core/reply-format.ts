/**
 * How 4biz replies read as DMs: an agent's occurrence, the solution of a finished request, and the
 * split of text longer than one DM. Pure functions.
 */

/** X's limit for one DM's text. */
export const DM_MAX_CHARS = 10_000;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** 4biz stores occurrences from its rich-text editor as HTML: a DM wants plain text. */
export function htmlToText(html: string): string {
  return html
    .replace(/\r\n?/g, '\n')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h[1-6])>/gi, '\n')
    .replace(/<li[^>]*>/gi, '- ')
    .replace(/<\/?[a-zA-Z][^>]*>/g, '')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** An agent's occurrence as the person reads it: the agent's words, nothing added. */
export function formatOccurrence(description: string): string {
  return htmlToText(description);
}

export interface SolutionInput {
  requestNumber: string;
  /** 4biz's status: Resolvida, Fechada or Cancelada. */
  status: string;
  solution?: string;
  /** The tenant's `fourbiz.closingMessage`, used when 4biz sent no solution; `{number}` = the request number. */
  closingMessage?: string;
}

/**
 * The last DM of a request: what happened to it, the solution text, and how to start again; with
 * no solution text, the tenant's closing message when it has one.
 */
export function formatSolution({ requestNumber, status, solution, closingMessage }: SolutionInput): string {
  const body = solution ? htmlToText(solution) : '';
  if (!body && closingMessage) return closingMessage.replaceAll('{number}', requestNumber);
  const outcome = status.toLowerCase() === 'cancelada' ? 'foi cancelada' : 'foi concluída';
  return [
    `Sua solicitação nº ${requestNumber} ${outcome}.`,
    ...(body ? [body] : []),
    'Se precisar de algo mais, é só enviar uma nova mensagem.',
  ].join('\n\n');
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Splits text into DMs of at most `limit` UTF-16 code units (X counts at most that many), only
 * between grapheme clusters, so an emoji, a flag or a surrogate pair is never cut. Prefers the
 * last whitespace in the second half of a part. Joining the parts gives the text back.
 */
export function splitForDm(text: string, limit = DM_MAX_CHARS): string[] {
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let current = '';
  let lastBreak = -1;
  const cut = () => {
    const at = lastBreak > limit / 2 ? lastBreak : current.length;
    parts.push(current.slice(0, at));
    current = current.slice(at);
    lastBreak = -1;
  };
  for (const { segment } of graphemes.segment(text)) {
    for (const piece of segment.length > limit ? Array.from(segment) : [segment]) {
      if (current.length + piece.length > limit) cut();
      current += piece;
      if (/^\s+$/.test(piece)) lastBreak = current.length;
    }
  }
  if (current) parts.push(current);
  return parts;
}
