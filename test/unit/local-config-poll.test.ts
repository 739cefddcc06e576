import { LocalConfigError, parseLocalSettings } from '../../local/local-config';

describe('npm start settings for polling mode', () => {
  it('X_INGESTION picks webhook or poll (unset: the tenant file decides); X_POLL_INTERVAL_SECONDS any positive value, 5 s by default', () => {
    expect(parseLocalSettings({})).toMatchObject({ xIngestion: undefined, xPollIntervalMs: 5000 });
    expect(parseLocalSettings({ X_INGESTION: 'poll', X_POLL_INTERVAL_SECONDS: '0.5' })).toMatchObject({ xIngestion: 'poll', xPollIntervalMs: 500 });
    expect(parseLocalSettings({ X_INGESTION: 'webhook' })).toMatchObject({ xIngestion: 'webhook' });
  });

  it('refuses anything else with the variable named', () => {
    expect(() => parseLocalSettings({ X_INGESTION: 'stream' })).toThrow(LocalConfigError);
    expect(() => parseLocalSettings({ X_INGESTION: 'stream' })).toThrow(/X_INGESTION/);
    expect(() => parseLocalSettings({ X_POLL_INTERVAL_SECONDS: '0' })).toThrow(/X_POLL_INTERVAL_SECONDS/);
  });
});
