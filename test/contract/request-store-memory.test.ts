import { InMemoryRequestStore } from '../fakes/in-memory-request-store.js';
import { counterClock, requestStoreContract } from './request-store.contract.js';

// The use cases' unit tests run on this fake; it is held to the same contract as DynamoDB.
requestStoreContract('InMemoryRequestStore', async () => {
  const clock = counterClock();
  return { store: new InMemoryRequestStore(clock), clock };
});
