/**
 * Preloaded (`node --import`) into an emulator that listens on every interface with no option to
 * change it (fauxqs 1.9 hard-codes 0.0.0.0): every server of that process listens on loopback
 * instead, so a neighbour on the LAN cannot read the queues (DM texts) with the fixed dummy key.
 */
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first !== null && typeof first === 'object' && !(first instanceof net.Server) && ('port' in first || 'host' in first)) {
    if (!('path' in first)) args[0] = { ...first, host: '127.0.0.1' };
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
