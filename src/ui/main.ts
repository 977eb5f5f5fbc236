// The page's entry: styles, the wasm core's URL (a build asset), and the playground.
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import coreWasmUrl from '../../build/wasm/core.wasm?url';
import { PlaygroundPage } from './PlaygroundPage.ts';

const params = new URLSearchParams(location.search);
new PlaygroundPage(document.getElementById('app')!, { baseUrl: import.meta.env.BASE_URL, coreWasmUrl, forceConsoleMessages: params.get('console') === 'messages' });
