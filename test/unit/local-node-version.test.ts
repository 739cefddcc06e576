import { assertSupportedNode } from '../../local/start';

describe('npm start on an unsupported Node', () => {
  it('stops with the reason below package.json engines (the AWS SDK floor, Node 22) and runs from there on', () => {
    expect(() => assertSupportedNode('20.20.2')).toThrow('Node 20.20.2 is too old: the bridge needs Node >=22 (package.json engines)');
    expect(() => assertSupportedNode('22.0.0')).not.toThrow();
    expect(() => assertSupportedNode('24.21.0')).not.toThrow();
  });
});
