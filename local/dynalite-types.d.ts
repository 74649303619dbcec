// dynalite ships no TypeScript types (and there is no @types/dynalite); this covers what local/ uses.
// Not named dynalite.d.ts: tsc skips a .d.ts that sits next to a same-named .ts (it takes it for output).
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Time a new table stays CREATING; 0 makes it ACTIVE at once. Default 500 ms. */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    /** LevelDB directory; omitted, the data lives in memory. */
    path?: string;
    ssl?: boolean;
    verbose?: boolean;
    debug?: boolean;
  }

  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
