/**
 * Which VMs a scenario started, and from which guest of it: Share gives such a VM's link
 * its console script back. Held weakly, so a disposed VM takes its entry with it.
 */
import type { VmHandle } from '../../hypervisor/index.ts';
import type { ScenarioGuest } from '../../scenario/index.ts';

const origins = new WeakMap<VmHandle, ScenarioGuest>();

export function rememberScenarioGuest(vm: VmHandle, guest: ScenarioGuest): void {
  origins.set(vm, guest);
}

export function scenarioGuestOf(vm: VmHandle): ScenarioGuest | undefined {
  return origins.get(vm);
}
