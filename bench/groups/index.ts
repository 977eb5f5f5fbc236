// Every benchmark group by name, in the order `bench/run.ts` runs them. A new group
// (Linux boot, disk I/O) is a module in this folder exporting a BenchGroup, listed here.
import type { BenchGroup } from '../Types.ts';
import { applianceCpuGroup } from './applianceCpu.ts';
import { bareMetalGroup } from './bareMetal.ts';
import { diskGroup } from './disk.ts';
import { hostfwdGroup } from './hostfwd.ts';
import { inspectorGroup } from './inspector.ts';
import { linuxBootGroup } from './linuxBoot.ts';
import { machineStateGroup } from './machineState.ts';
import { networkGroup } from './network.ts';
import { networkFloodGroup } from './networkFlood.ts';
import { pageGroup } from './page.ts';
import { patchGroup } from './patch.ts';
import { remoteBootGroup } from './remoteBoot.ts';
import { scenarioDecodeGroup } from './scenarioDecode.ts';
import { share9pGroup } from './share9p.ts';
import { smpBootGroup } from './smpBoot.ts';
import { stockBootGroup } from './stockBoot.ts';

export const BENCH_GROUPS: readonly BenchGroup[] = [bareMetalGroup, linuxBootGroup, stockBootGroup, applianceCpuGroup, smpBootGroup, diskGroup, remoteBootGroup, patchGroup, share9pGroup, networkGroup, networkFloodGroup, hostfwdGroup, machineStateGroup, inspectorGroup, pageGroup, scenarioDecodeGroup];
