/**
 * JSON for an SQS message body that SQS stores and returns unchanged. SQS accepts only #x9, #xA,
 * #xD, #x20–#xD7FF, #xE000–#xFFFD and #x10000–#x10FFFF; JSON.stringify already escapes the
 * control characters, so what is left to escape are U+FFFE, U+FFFF and UTF-16 surrogates (lone
 * ones SQS refuses; paired ones — emoji, some CJK — are fine on AWS but emulators such as fauxqs
 * reject them). Every `\u` escape parses back to the identical string everywhere.
 */
export function sqsJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\uD800-\uDFFF\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
