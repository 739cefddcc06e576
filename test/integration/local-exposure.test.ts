import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { startHttpGateway, type HttpGateway } from '../../local/http-gateway';

/** Issue 8 §9: in local mode the emulators and the gateway are reachable from this machine only. */

/** Local addresses of the sockets listening on `port` (Linux /proc/net/tcp and tcp6). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols.length > 3 && cols[3] === '0A' && cols[1]!.endsWith(`:${hexPort}`))
      .map((cols) => cols[1]!.split(':')[0]!),
  );
}

const LOOPBACK = new Set(['0100007F', '00000000000000000000000001000000', '0000000000000000FFFF00000100007F']);

describe('local exposure', () => {
  it('fauxqs (the queues, DM texts) listens on loopback only', () => {
    const port = Number(new URL(process.env.TEST_SQS_ENDPOINT!).port);
    const addresses = listeners(port);
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect(LOOPBACK.has(a)).toBe(true);
  });

  describe('the local gateway', () => {
    let gateway: HttpGateway;
    beforeAll(async () => {
      gateway = await startHttpGateway({ routes: [{ method: 'GET', path: '/ping', handler: async () => ({ statusCode: 200, body: 'pong' }) }] });
    });
    afterAll(() => gateway.close());

    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: gateway.port, path: '/ping', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });

    it.each(['localhost', `localhost:${3000}`, '127.0.0.1:3000', '[::1]:3000', 'sqs.us-east-1.localhost'])('answers Host %s', async (host) => {
      expect(await get(host)).toBe(200);
    });

    it.each(['attacker.example', 'attacker.example:3000', '192.168.1.20:3000', 'localhost.attacker.example'])('refuses Host %s (DNS rebinding)', async (host) => {
      expect(await get(host)).toBe(421);
    });
  });
});
