import { graphemes } from './graphemes';

/**
 * How 4biz replies read as DMs: an agent's occurrence, the solution of a finished request, and the
 * split of text longer than one DM. Pure functions, linear in the text's length.
 */

/** X's limit for one DM's text. */
export const DM_MAX_CHARS = 10_000;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };


/**
 * Characters a person cannot see that change what they read: control characters (newline and tab
 * stay), format characters (bidi overrides and isolates U+202A–U+202E and U+2066–U+2069, zero-width
 * spaces and joiners, soft hyphens, word joiners, BOMs, tag characters) and the blank fillers that
 * render as nothing, and lone surrogates. They can hide or reverse part of a link.
 */
const INVISIBLE = /(?![\n\t])[\p{Cc}\p{Cf}\p{Cs}\u034F\u115F\u1160\u3164\uFFA0]/gu;
/** Inside an emoji sequence the zero-width joiner and the tag characters (subdivision flags) are the emoji itself. */
const INVISIBLE_IN_EMOJI = /(?![\n\t\u{E0020}-\u{E007F}]|\u200D)[\p{Cc}\p{Cf}\p{Cs}\u034F\u115F\u1160\u3164\uFFA0]/gu;
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;

/** Text safe to show: the invisible characters above removed, emoji sequences (ZWJ, flags) intact. */
function visibleText(text: string): string {
  let out = '';
  // A bidi control is a grapheme of its own; a joiner belongs to the grapheme before it.
  for (const segment of graphemes(text.replace(/[\u2028\u2029]/g, '\n'))) {
    out += segment.replace(PICTOGRAPHIC.test(segment) ? INVISIBLE_IN_EMOJI : INVISIBLE, '');
  }
  return out;
}

/** 4biz stores occurrences from its rich-text editor as HTML: a DM wants plain text, safe to show (visibleText). */
export function htmlToText(html: string): string {
  const decoded = html
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
    });
  // After decoding: an entity (&#x202E;) must not bring back what the text may not carry.
  return visibleText(decoded)
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

/**
 * Splits text into DMs of at most `limit` UTF-16 code units (never fewer than the characters X
 * counts, code points or graphemes, so a part is never over X's limit), only
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
  for (const segment of graphemes(text)) {
    for (const piece of segment.length > limit ? Array.from(segment) : [segment]) {
      if (current.length + piece.length > limit) cut();
      current += piece;
      if (/^\s+$/.test(piece)) lastBreak = current.length;
    }
  }
  if (current) parts.push(current);
  return parts;
}

/** How many DMs one answer may become by default: X allows 15 DMs per 15 minutes and bills each. */
export const DEFAULT_ANSWER_MAX_PARTS = 3;

/**
 * An answer as the DMs that carry it, in order: all of it when it fits in `maxParts` DMs; else the
 * first parts, the last one ending with where the whole answer can be read in 4biz. Never more
 * than `maxParts` DMs, each within X's limit.
 */
export function answerParts(text: string, requestNumber: string, maxParts = DEFAULT_ANSWER_MAX_PARTS): string[] {
  const parts = splitForDm(text);
  if (parts.length <= maxParts) return parts;
  const notice = `(…) A resposta continua na sua solicitação nº ${requestNumber}: leia-a completa no portal de atendimento.`;
  const kept = parts.slice(0, maxParts);
  const last = splitForDm(kept.pop()!, DM_MAX_CHARS - notice.length - 2)[0]!;
  return [...kept, `${last.trimEnd()}\n\n${notice}`];
}
