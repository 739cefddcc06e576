import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/**
 * The layering rule of `npm run lint`: functions/core/ holds pure logic and the contracts, so it
 * must not reach outwards. Each sample is linted as if it lived in a core file (or, for contrast,
 * an adapter) by the project's own ESLint config, in a child process (ESLint loads its config with
 * a dynamic import, which jest's module sandbox does not offer).
 */
const root = join(__dirname, '..', '..');

interface Sample {
  code: string;
  file: string;
}

function restrictedImportMessages(samples: Sample[]): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const { join } = require('node:path');
    const samples = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = [];
      for (const s of samples) {
        const [r] = await eslint.lintText(s.code, { filePath: join(process.cwd(), s.file) });
        out.push(r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(samples)], { cwd: root, encoding: 'utf8' })) as string[][];
}

const refused: [string, string][] = [
  ["import type { SecretSource } from '../adapters/secrets';", 'adapters implement them'],
  ["import { dynamoLeaseStore } from '../adapters/lease-store';", 'adapters implement them'],
  ["import { SQSClient } from '@aws-sdk/client-sqs';", 'free of AWS'],
  ["import { Logger } from '@aws-lambda-powertools/logger';", 'free of Lambda tooling'],
  ["import { TwitterApi } from 'twitter-api-v2';", "free of X's client"],
  ["import { createWebhookHandler } from '../webhook/handler';", 'handlers or runtime wiring'],
  ["import { runtimeConfig } from '../config';", 'handlers or runtime wiring'],
];
const allowed: Sample[] = [
  {
    file: 'functions/core/example.ts',
    code: "import { z } from 'zod';\nimport { createHmac } from 'node:crypto';\nimport type { ConversationStore } from './ports';\nexport const used = [z, createHmac];\nexport type S = ConversationStore;\n",
  },
  {
    file: 'functions/adapters/example.ts',
    code: "import { SQSClient } from '@aws-sdk/client-sqs';\nimport type { XClient } from '../core/ports';\nexport const used = [SQSClient];\nexport type X = XClient;\n",
  },
];

describe('lint: functions/core does not import the outside world', () => {
  const results = restrictedImportMessages([
    ...refused.map(([code]) => ({ file: 'functions/core/example.ts', code: `${code}\nexport const used = [${/\{ (?:type )?(\w+)/.exec(code)![1]}];\n` })),
    ...allowed,
  ]);

  it.each(refused.map(([code, reason], i) => [code, reason, i] as const))('refuses `%s` in a core file', (_code, reason, i) => {
    expect(results[i]).toHaveLength(1);
    expect(results[i][0]).toContain(reason);
  });

  it('allows core to import core, zod and node built-ins, and adapters to import anything', () => {
    expect(results.slice(refused.length)).toEqual([[], []]);
  });
});

/** Every relative import (type-only and dynamic ones too) between the project's own modules, by file. */
function importGraph(dirs: string[]): Map<string, string[]> {
  const files = dirs.flatMap((d) => readdirSync(join(root, d), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(root, d, f)));
  const known = new Set(files);
  const resolve = (from: string, spec: string) =>
    [`${spec}.ts`, join(spec, 'index.ts')].map((c) => join(dirname(from), c)).find((c) => known.has(c));
  return new Map(
    files.map((file) => {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = importedFiles.filter((i) => i.fileName.startsWith('.')).map((i) => resolve(file, i.fileName));
      return [relative(root, file), targets.filter((t): t is string => t !== undefined).map((t) => relative(root, t))];
    }),
  );
}

/** The import cycles of a graph: its strongly connected components of more than one module (Tarjan), and self-imports. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = stack.splice(stack.indexOf(v));
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('imports run one way', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const graph = new Map([
      ['core/ports.ts', ['core/dm-poll.ts']],
      ['core/dm-poll.ts', ['core/ports.ts', 'core/errors.ts']],
      ['core/errors.ts', []],
      ['local/http.ts', ['local/http.ts']],
    ]);
    expect(cycles(graph)).toEqual([['core/dm-poll.ts', 'core/ports.ts'], ['local/http.ts']]);
  });

  it('no module of the project imports itself back through others', () => {
    expect(cycles(importGraph(['functions', 'infra', 'local', 'cli', 'simulators', 'bench', 'test']))).toEqual([]);
  });

  it('lint: the simulators do not import the tools that use them (local runner, CLIs, bench, infra, tests)', () => {
    const [up, shared] = restrictedImportMessages([
      { file: 'simulators/example.ts', code: "import { readBody } from '../local/http-gateway';\nexport const used = [readBody];\n" },
      { file: 'simulators/example.ts', code: "import { readBody } from './http';\nimport { signPayload } from '../functions/core/x-signature';\nexport const used = [readBody, signPayload];\n" },
    ]);
    expect(up).toEqual([expect.stringContaining('simulators sit below the tools')]);
    expect(shared).toEqual([]);
  });
});
