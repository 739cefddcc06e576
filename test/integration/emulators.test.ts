import { JAVA_MISSING_MESSAGE, startDynamoDbLocal, startEmulators, startFauxqs, type Emulator } from '../../local/emulators';

/** `npm start` on a machine without Java: a clear message, and no fauxqs left running. */
const noJava = '/nonexistent/bin/java';

describe('emulators without Java', () => {
  it('says how to install Java instead of crashing', async () => {
    const failure = startDynamoDbLocal({ java: noJava });
    await expect(failure).rejects.toThrow(JAVA_MISSING_MESSAGE);
    expect(JAVA_MISSING_MESSAGE).toContain('sudo apt-get install -y openjdk-17-jre-headless');
    expect(JAVA_MISSING_MESSAGE).toContain('docs/local-mode.md');
  });

  it('stops the fauxqs it already started', async () => {
    let fauxqs: Emulator | undefined;
    const start = startEmulators({
      dynamo: () => startDynamoDbLocal({ java: noJava }),
      sqs: async () => (fauxqs = await startFauxqs()),
    });
    await expect(start).rejects.toThrow(JAVA_MISSING_MESSAGE);
    expect(fauxqs).toBeDefined();
    await expect(fetch(fauxqs!.endpoint, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
