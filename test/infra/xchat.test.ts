import { Match } from 'aws-cdk-lib/assertions';
import { withChatXdk } from '../../infra/constructs/bridge-function';
import { buildStack, functionNamed, statementsOf, tenantWith } from './build-stack';

const xchatTickets = () =>
  tenantWith({ x: { xchat: true }, fourbiz: { mode: 'tickets', baseUrl: 'https://empresa.4biz.one/4biz' } });

describe('XChat (tenant x.xchat)', () => {
  it('needs webhook ingestion', () => {
    expect(() => tenantWith({ x: { xchat: true, ingestion: 'poll' } })).toThrow(/XChat arrives only through the webhook/);
  });

  it('gives only the dispatcher and the sender the KMS key that wraps conversation keys, for encrypt and decrypt only', () => {
    const { template } = buildStack(xchatTickets());
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('XChat') } }));
    expect(keyId).toBeDefined();
    template.hasResource('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('XChat'), EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
    const kmsActions = (fn: string) =>
      statementsOf(template, fn)
        .filter((s) => JSON.stringify(s.Resource).includes(keyId))
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
        .sort();
    expect(kmsActions('Dispatcher')).toEqual(['kms:Decrypt', 'kms:Encrypt']);
    expect(kmsActions('Sender')).toEqual(['kms:Decrypt', 'kms:Encrypt']);
    for (const fn of ['Webhook', 'Crc', 'Poller', 'Health']) expect(kmsActions(fn)).toEqual([]);
  });

  it('tells the webhook to queue chat.received and the XChat functions where the key is', () => {
    const { template } = buildStack(xchatTickets());
    expect(functionNamed(template, 'Webhook')[1].Properties!.Environment.Variables).toMatchObject({ XCHAT: 'true' });
    for (const fn of ['Dispatcher', 'Sender']) {
      expect(functionNamed(template, fn)[1].Properties!.Environment.Variables).toMatchObject({ XCHAT_KEY_ARN: expect.anything(), X_ACCOUNT_ID: '1400000000000000001' });
    }
    expect(functionNamed(template, 'Sender')[1].Properties!.Environment.Variables).toMatchObject({ XCHAT: 'true' });
  });

  it('without the switch: no XChat key, no XChat variables', () => {
    const { template } = buildStack(tenantWith());
    expect(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('XChat') } })).toEqual({});
    expect(functionNamed(template, 'Webhook')[1].Properties!.Environment.Variables.XCHAT).toBeUndefined();
    expect(functionNamed(template, 'Dispatcher')[1].Properties!.Environment.Variables.XCHAT_KEY_ARN).toBeUndefined();
  });

  it('ships chat-xdk beside the bundle of the functions that load it', () => {
    expect(withChatXdk.commandHooks.afterBundling('/project', '/asset')).toEqual([
      'mkdir -p "/asset/node_modules/@xdevplatform"',
      'cp -R "/project/node_modules/@xdevplatform/chat-xdk" "/asset/node_modules/@xdevplatform/"',
    ]);
  });
});
