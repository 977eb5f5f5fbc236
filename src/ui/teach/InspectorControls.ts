/**
 * What the inspector panel's buttons call: the page implements it over its worker's
 * comlink proxy (the demo does so in demo.ts). Every call is asynchronous because the
 * machine lives in another thread; the panel waits for one call before allowing the next.
 */
import type { AccessType, AddressReport, ControlResult, MachineSnapshot, Privilege, StepBackInfo } from '../../machine/index.ts';

export interface InspectorControls {
  /** Stops the guest between two slices. */
  pause(): Promise<void>;
  /** Runs the guest on, past the breakpoint if it is stopped at one. */
  resume(): Promise<void>;
  /** The machine state now (only called while paused). */
  snapshot(): Promise<MachineSnapshot>;
  step(): Promise<ControlResult>;
  stepUntilTrap(): Promise<ControlResult>;
  runUntilPrivChange(): Promise<ControlResult>;
  /** Step back (deterministic VMs): one instruction, to the previous trap, to the previous mode change. */
  stepBack(): Promise<ControlResult>;
  runBackToTrap(): Promise<ControlResult>;
  runBackToPrivChange(): Promise<ControlResult>;
  /** Back to just after the trap the log numbers `seq`. */
  backToTrap(seq: number): Promise<ControlResult>;
  /** Whether step back is offered, and why not. */
  stepBackInfo(): Promise<StepBackInfo>;
  /** Sets, or with undefined clears, the breakpoint; the guest stays paused or running as it was. */
  setBreakpoint(pc: bigint | undefined): Promise<void>;
  explain(va: bigint, access: AccessType, priv?: Privilege): Promise<AddressReport>;
}
