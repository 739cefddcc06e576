import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChatWithJuicebox } from '@xdevplatform/chat-xdk';

/**
 * X's chat-xdk crypto engine (@xdevplatform/chat-xdk, pinned exactly), loaded lazily: only the
 * functions that read or answer XChat pay for its WASM start-up, and only on first use.
 *
 * Why the engine and not the package's public `createChat`: the public API keeps private keys in
 * X's Juicebox realms and loads them with a PIN over the network (`unlock`). A Lambda has neither
 * the PIN nor a reason to call Juicebox on every cold start; the company's keys come from the
 * tenant secret as the key blob Juicebox itself stores (the engine's `exportKeys` bytes). Only the
 * WASM engine the public wrapper forwards to (`pkg/chat_xdk_wasm.js`, class `Chat`) imports such a
 * blob (`importKeys`) and works offline. The package's `exports` map hides `pkg/`, so the file is
 * found next to the package's entry point. test/unit/xchat-engine.test.ts fails loudly when the
 * package changes (version, file hashes, the engine's methods), so an upgrade is a conscious step.
 */
export const CHAT_XDK_VERSION = '0.4.3';

/** The engine methods the bridge and the simulator use (the public wrapper forwards the same ones). */
export type XChatEngine = Pick<
  ChatWithJuicebox,
  | 'setIdentity'
  | 'decryptEvent'
  | 'decryptEvents'
  | 'encryptReply'
  | 'encryptMessage'
  | 'generateKeypairs'
  | 'prepareConversationKeyChange'
  | 'matchesRegisteredKey'
  | 'isUnlocked'
  | 'sign'
  | 'verify'
  | 'getPublicKeys'
  | 'setRejectUnverified'
  | 'lock'
  | 'free'
> & {
  /** Loads private keys (the key blob); the engine zeroes the bytes it was given. */
  importKeys(keys: Uint8Array, version?: string): void;
  exportKeys(): Uint8Array;
};

interface EngineModule {
  Chat: new () => XChatEngine;
  initSync(options: { module: Uint8Array }): unknown;
}

/** Where the package lives (its `pkg/` folder holds the engine); exported for the package-change test. */
export function chatXdkDir(): string {
  return dirname(require.resolve('@xdevplatform/chat-xdk'));
}

let loaded: EngineModule | undefined;

/** The engine module, initialised once per container (the WASM bytes are read from the package, not fetched). */
function engineModule(): EngineModule {
  if (!loaded) {
    const pkg = join(chatXdkDir(), 'pkg');
    // The engine draws its randomness from WebCrypto on the global scope (Node 20+ has it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a computed path: see the note above.
    const mod = require(join(pkg, 'chat_xdk_wasm.js')) as EngineModule;
    mod.initSync({ module: readFileSync(join(pkg, 'chat_xdk_wasm_bg.wasm')) });
    loaded = mod;
  }
  return loaded;
}

/** A fresh engine without keys (the caller imports a key blob or generates keys). */
export function newXChatEngine(): XChatEngine {
  return new (engineModule().Chat)();
}
