/**
 * JSON for an SQS message body with every character outside the Basic Multilingual Plane (emoji,
 * some CJK) written as `\u` surrogate escapes. SQS accepts those characters, but emulators such as
 * fauxqs reject them; the escaped JSON parses back to the identical string everywhere.
 */
export function sqsJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\uD800-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
