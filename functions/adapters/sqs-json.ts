/**
 * JSON for an SQS message body that SQS stores and returns unchanged, as compact as SQS allows.
 * SQS accepts only #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD and #x10000–#x10FFFF; JSON.stringify
 * already escapes the control characters (and, since ES2019, lone surrogates), so what is left to
 * escape are U+FFFE and U+FFFF. Paired surrogates (emoji, some CJK) stay as they are: 4 bytes of
 * UTF-8 instead of a 12-byte pair of escapes. `escapePairs` escapes them too, for emulators that
 * refuse them (fauxqs checks UTF-16 units). Every `\u` escape parses back to the identical string.
 */
export function sqsJson(value: unknown, opts: { escapePairs?: boolean } = {}): string {
  const pattern = opts.escapePairs ? /[\uD800-\uDFFF\uFFFE\uFFFF]/g : /[\uFFFE\uFFFF]/g;
  return JSON.stringify(value).replace(pattern, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
