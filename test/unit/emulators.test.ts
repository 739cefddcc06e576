import { startAll, startEmulators, type Emulator } from '../../local/emulators';

/** A failed start stops what already started (issue 13: a missing Java left fauxqs running). */
function fakeEmulator(endpoint: string, delayMs: number) {
  const stopped: string[] = [];
  const start = () =>
    new Promise<Emulator>((resolve) =>
      setTimeout(() => resolve({ endpoint, stop: async () => void stopped.push(endpoint) }), delayMs),
    );
  return { start, stopped };
}

describe('starting the emulators', () => {
  it('stops the emulators that came up when another one fails, even if they came up after the failure', async () => {
    const sqs = fakeEmulator('http://127.0.0.1:1', 30);
    const failing = () => Promise.reject(new Error('no java'));
    await expect(startEmulators({ dynamo: failing, sqs: sqs.start })).rejects.toThrow('no java');
    expect(sqs.stopped).toEqual(['http://127.0.0.1:1']);
  });

  it('stops nothing when all start, and stop() stops each once', async () => {
    const dynamo = fakeEmulator('http://127.0.0.1:2', 5);
    const sqs = fakeEmulator('http://127.0.0.1:3', 1);
    const started = await startEmulators({ dynamo: dynamo.start, sqs: sqs.start });
    expect(started).toMatchObject({ dynamoEndpoint: 'http://127.0.0.1:2', sqsEndpoint: 'http://127.0.0.1:3' });
    expect([...dynamo.stopped, ...sqs.stopped]).toEqual([]);
    await started.stop();
    expect([...dynamo.stopped, ...sqs.stopped].sort()).toEqual(['http://127.0.0.1:2', 'http://127.0.0.1:3']);
  });

  it('reports the first failure after cleaning up the rest', async () => {
    const ok = fakeEmulator('http://127.0.0.1:4', 1);
    await expect(startAll([() => Promise.reject(new Error('first')), ok.start, () => Promise.reject(new Error('second'))])).rejects.toThrow('first');
    expect(ok.stopped).toEqual(['http://127.0.0.1:4']);
  });
});
