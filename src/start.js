// The process entry of `npm start` / `make run` / the Dockerfile, in plain JavaScript so that it can turn
// on Node's compile cache before any TypeScript is loaded: the cache keeps the type-stripped sources (and
// V8's code cache) on disk, so later starts neither load the TypeScript stripper (~17 MB of resident
// memory for the life of the process) nor strip again. The first start after a change fills the cache.
// NODE_COMPILE_CACHE sets its folder (default: node-compile-cache under the OS temp folder); an unwritable
// folder only disables the cache.
import module from 'node:module';

module.enableCompileCache?.();
await import('./server.ts');
