import dns from 'node:dns';

/**
 * Resolves `*.localhost` to loopback in this process, as RFC 6761 asks and browsers do (glibc
 * does not). fauxqs names its queues http://sqs.<region>.localhost:<port>/…, and the SQS client of
 * a function built from the environment (no explicit endpoint) calls the QueueUrl's host.
 */
let installed = false;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

export function resolveLocalhostSubdomains(): void {
  if (installed) return;
  installed = true;
  const original = dns.lookup;
  const patched = function (hostname: string, options: unknown, callback?: LookupCallback) {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = (typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : (options ?? {})) as dns.LookupOptions;
    if (!/\.localhost\.?$/i.test(hostname)) return (original as (...a: unknown[]) => void)(hostname, opts, cb);
    if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(cb, null, '127.0.0.1', 4);
  };
  dns.lookup = patched as typeof dns.lookup;
}
