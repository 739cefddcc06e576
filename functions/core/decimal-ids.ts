/**
 * Ids that are decimal digits (X's DM event ids, 4biz's occurrence numbers) grow with time and may
 * lie beyond 2^53: compared as numbers, digit string against digit string, never as text
 * ("9" < "10"). Ids that are not digits compare as text.
 */
export function compareDecimalIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
