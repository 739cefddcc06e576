import { randomBytes } from 'node:crypto';
import type { SigningKey } from '../core/xchat';
import { byVersion } from './xchat-crypto';
import { newXChatEngine } from './xchat-engine';

/** What checking a key blob against X's published keys of the company account found. */
export type KeyBlobCheck =
  | { ok: true; publicKeyVersion: string }
  | { ok: false; problem: 'malformed' | 'unpublished' | 'foreign'; detail: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Does this key blob hold the company account's XChat identity? Imported into a fresh chat-xdk
 * engine (offline); it must hold both private keys, its identity key must be one X publishes for
 * the account (`matchesRegisteredKey`), and a signature made with its signing key must verify
 * under that entry's signing key (so answers signed with it verify for people). Answers with the
 * version X registered the keys under. Messages name the problem, never key material.
 */
export function checkKeyBlob(keyBlob: string, published: SigningKey[]): KeyBlobCheck {
  const text = keyBlob.trim();
  if (!BASE64.test(text)) return { ok: false, problem: 'malformed', detail: 'the key blob is not base64 text' };
  const engine = newXChatEngine();
  try {
    try {
      engine.importKeys(Buffer.from(text, 'base64'));
    } catch (err) {
      return { ok: false, problem: 'malformed', detail: `chat-xdk cannot import it as a key blob (${String((err as Error)?.message ?? err).slice(0, 200)})` };
    }
    // An identity key alone decrypts but cannot sign answers.
    if (!engine.isUnlocked()) return { ok: false, problem: 'malformed', detail: 'the key blob holds no signing key (chat-xdk exports both private keys, 64 bytes)' };
    if (published.length === 0) return { ok: false, problem: 'unpublished', detail: 'X publishes no XChat public keys for the account (GET /2/users/:id/public_keys)' };
    const proof = randomBytes(32);
    const signature = engine.sign(proof);
    const holds = (k: SigningKey) => {
      try {
        return engine.matchesRegisteredKey(k.identityPublicKey) && engine.verify(k.publicKey, signature, proof);
      } catch {
        return false; // an entry chat-xdk cannot read is not ours
      }
    };
    const match = [...published].filter((k) => /^\d{1,32}$/.test(k.publicKeyVersion)).sort((a, b) => byVersion(b.publicKeyVersion, a.publicKeyVersion)).find(holds);
    if (!match) {
      return { ok: false, problem: 'foreign', detail: `none of the ${published.length} XChat public key(s) X publishes for the account belongs to this key blob` };
    }
    return { ok: true, publicKeyVersion: match.publicKeyVersion };
  } finally {
    engine.free();
  }
}
