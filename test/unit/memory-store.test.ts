import { conversationStoreContract } from '../support/conversation-store-contract';
import { memoryStore } from '../support/memory-store';

/** The unit tests' in-memory store keeps the same promises as the DynamoDB one. */
conversationStoreContract('in memory', (now) => memoryStore([], { now }));
