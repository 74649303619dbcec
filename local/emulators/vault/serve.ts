/*
 * The Vault emulator in a process of its own, as Vault runs beside its clients: prints one JSON
 * line `{ "url", "rootToken" }` once it listens, and stops on SIGTERM or SIGINT. For benches that
 * must not share a Node thread between the client they measure and the server it calls.
 */
import { startVaultEmulator } from './vault-emulator.js';

const emulator = await startVaultEmulator();
process.stdout.write(`${JSON.stringify({ url: emulator.url, rootToken: emulator.rootToken })}\n`);
const stop = () => {
  void emulator.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
