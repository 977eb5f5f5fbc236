// The worst time to decode a scenario link, over the hardest links the fuzzer knows (the
// largest valid scenario, inflation bombs stopped at the cap, deepest nesting). QEMU has
// no counterpart, so this row has romvisor's figure only.
import { worstDecodeMs } from '../../tests/scenario/scenarioFuzz.ts';
import type { BenchGroup } from '../Types.ts';

const DECODES = 2_000;

export const scenarioDecodeGroup: BenchGroup = {
  name: 'scenario',
  description: `worst decode time of ${DECODES} hard scenario links (romvisor only: QEMU has no counterpart)`,
  async run() {
    const ms = worstDecodeMs(DECODES);
    return [{ group: 'scenario', name: 'worst link decode', romvisorSeconds: ms / 1000, outputsMatch: true, note: 'no QEMU counterpart' }];
  },
};
