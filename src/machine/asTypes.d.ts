// AssemblyScript's integer types as TypeScript sees them, so that the constants the core
// and the host share (wasm/machineMap.ts) compile under both. Only plain numbers cross:
// the shared constants all fit in 53 bits.
type u32 = number;
type u64 = number;
