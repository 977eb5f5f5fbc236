#!/usr/bin/env node
// The `romvisor` command: the CLI is TypeScript, run through tsx's loader so a checkout
// works without a compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
