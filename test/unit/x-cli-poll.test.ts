import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('npm run x on a polling tenant', () => {
  it('says there is nothing to register with X, without reading keys or calling AWS', () => {
    const out = spawnSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'cli/x.ts', 'register', '--tenant', 'example-poll'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      // No keys and an unreachable AWS: a call to either would fail the command.
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('Tenant example-poll polls X for its DMs');
    expect(out.stdout).toContain('nothing to register with X');
  }, 70_000);
});
