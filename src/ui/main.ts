// The page's entry: styles, the wasm core's URL (a build asset), and the playground.
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import coreWasmUrl from '../../build/wasm/core.wasm?url';
import { PlaygroundPage } from './PlaygroundPage.ts';
import { DEFAULT_JIT_MODE, JIT_MODES, parseJitMode, type JitMode } from '../jit/Jit.ts';

const params = new URLSearchParams(location.search);
// ?jit=off|auto|eager: the JIT tier of every VM without a setting of its own. A value that
// is none of those is refused, said at the top of the page, and not guessed at.
const jitParam = params.get('jit');
let jit: JitMode | undefined;
let jitProblem: string | undefined;
if (jitParam !== null) {
  try {
    jit = parseJitMode(jitParam, '?jit=');
  } catch {
    jitProblem = `?jit=${jitParam} in the address is not a JIT tier: use ${JIT_MODES.join(', ')}. It was ignored: each VM runs with the tier in its menu, else ${DEFAULT_JIT_MODE}.`;
  }
}
new PlaygroundPage(document.getElementById('app')!, { baseUrl: import.meta.env.BASE_URL, coreWasmUrl, forceConsoleMessages: params.get('console') === 'messages', jit, jitProblem });
