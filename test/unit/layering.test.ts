import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

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
