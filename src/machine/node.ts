// Node-only entry of the machine layer: compiling core.wasm from the build directory. Kept
// apart from index.ts so the browser bundle never imports `fs`. Node code imports both.
export { coreWasmPath, loadCoreModule } from './coreModule.node.ts';
