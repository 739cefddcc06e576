import type { z } from 'zod';

/**
 * One way to say what zod found wrong, for every boundary (env, tenant file, queue bodies, X and
 * 4biz answers): `path: message` joined by `; `, or the paths alone (`pathsOnly`) where a reply to
 * an outsider should stay short. `root` names an issue about the whole value; `limit` keeps the first few.
 */
export function formatZodIssues(error: z.ZodError, opts: { root?: string; limit?: number; pathsOnly?: boolean } = {}): string {
  const root = opts.root ?? '(root)';
  const shown = opts.limit === undefined ? error.issues : error.issues.slice(0, opts.limit);
  return opts.pathsOnly
    ? shown.map((i) => i.path.join('.') || root).join(', ')
    : shown.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}
