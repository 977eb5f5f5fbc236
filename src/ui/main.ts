// The page's entry: styles, the wasm core's URL (a build asset), and the playground.
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import coreWasmUrl from '../../build/wasm/core.wasm?url';
import { PlaygroundPage } from './PlaygroundPage.ts';
import { JIT_MODES, type JitMode } from '../jit/Jit.ts';

const params = new URLSearchParams(location.search);
// ?jit=off|auto|eager picks the JIT tier for every VM (an unknown value leaves it off).
const jitParam = params.get('jit');
const jit = JIT_MODES.find((m) => m === jitParam) as JitMode | undefined;
new PlaygroundPage(document.getElementById('app')!, { baseUrl: import.meta.env.BASE_URL, coreWasmUrl, forceConsoleMessages: params.get('console') === 'messages', jit });
