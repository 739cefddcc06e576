/**
 * Jest transform for the one ESM file jest must require: chat-xdk's WASM glue
 * (functions/adapters/xchat-engine.ts requires it; Node >= 20.19 loads it natively, jest does not).
 * esbuild, already the project's bundler, rewrites it to CommonJS.
 */
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const out = transformSync(source, { format: 'cjs', loader: 'js', target: 'node20', sourcefile: filename, logLevel: 'silent' });
    return { code: out.code };
  },
};
