import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
let outDir: string;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'cdk-synth-'));
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** The real CLI, as an operator runs it (no AWS credentials needed for synth). */
function synth(...args: string[]) {
  const result = spawnSync('npx', ['cdk', 'synth', '--no-notices', '-q', '-o', outDir, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe('cdk synth', () => {
  it('names the missing tenant file in one line, without a stack trace, and fails', () => {
    const { status, stderr } = synth('-c', 'tenant=missing');
    expect(status).not.toBe(0);
    const lines = stderr.split('\n').filter((l) => l.includes('tenants/missing.json'));
    expect(lines).toEqual([expect.stringMatching(/^error: tenant file not found: .*tenants\/missing\.json$/)]);
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 100_000);

  it('asks for a tenant when none is given', () => {
    const { status, stderr } = synth();
    expect(status).not.toBe(0);
    expect(stderr).toContain('error: no tenant: pass -c tenant=NAME to use tenants/NAME.json');
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 100_000);

  it('synthesises the example tenant, bundling every function with esbuild, cdk-nag clean', () => {
    const { status, stderr } = synth('-c', 'tenant=example');
    expect({ status, stderr: stderr.split('\n').filter((l) => /error|AwsSolutions/i.test(l)) }).toEqual({ status: 0, stderr: [] });
    expect(existsSync(join(outDir, 'FourBizTwitterDm-example.template.json'))).toBe(true);
  }, 100_000);

  it('refuses a tenant whose visibility timeout would give a Lambda timeout above 900 s, in one line naming the field', () => {
    const name = `oversized-${process.pid}`;
    const file = join(root, 'tenants', `${name}.json`);
    const example = JSON.parse(readFileSync(join(root, 'tenants', 'example.json'), 'utf8'));
    writeFileSync(file, JSON.stringify({ ...example, name, inbound: { ...example.inbound, visibilityTimeoutSeconds: 43_200 } }));
    try {
      const { status, stderr } = synth('-c', `tenant=${name}`);
      expect(status).not.toBe(0);
      expect(stderr.split('\n').filter((l) => l.includes(`${name}.json`))).toEqual([
        expect.stringMatching(new RegExp(`^error: .*tenants/${name}\\.json: inbound\\.visibilityTimeoutSeconds: at most 5400 `)),
      ]);
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(file, { force: true });
    }
  }, 100_000);
});
