/**
 * Valid scenarios drawn at random, in normalized form (defaults written out), so that
 * validateScenario, the link codec and the file codec must each give them back unchanged.
 * Sizes stay modest so every one fits in a link; the tests cover the limits separately.
 */
import { SCENARIO_VERSION, TIME_MODES, VIEW_PANELS, type ApplianceRef, type ConsoleStep, type Scenario, type ScenarioGuest } from '../../src/scenario/index.ts';
import type { SeededRandom } from '../SeededRandom.ts';

const WORDS = 'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,;:!?\'"<>&/\\-_()[]{}';
/** Plain text a person might write: accents, CJK, an emoji (a surrogate pair: two of the 120-unit title limit), markup look-alikes. */
const PROSE = `${WORDS}éüßñ漢字🙂€—“”`;
const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const KEYS = `${PRINTABLE_ASCII}\n\r\t\u0003\u0004\u001b`;
const NAME = 'abcdefghijklmnopqrstuvwxyz0123456789-';
const LOCAL_ID = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const HEX = '0123456789abcdef';

export function randomAppliance(r: SeededRandom): ApplianceRef {
  switch (r.int(0, 2)) {
    case 0:
      return { builtin: r.text(r.int(1, 32), NAME) };
    case 1: {
      const host = r.pick(['https://images.example.org', 'https://cdn.example.com:8443', 'http://localhost:5173', 'http://127.0.0.1']);
      return { url: `${host}/${r.text(r.int(1, 30), NAME)}.vhd${r.chance(0.3) ? `?v=${r.int(0, 99)}` : ''}`, sha256: r.text(64, HEX) };
    }
    default:
      return { local: r.text(r.int(1, 64), LOCAL_ID) };
  }
}

function randomStep(r: SeededRandom): ConsoleStep {
  switch (r.int(0, 3)) {
    case 0:
      return { send: r.text(r.int(0, 40), KEYS) };
    case 1:
      return { wait: r.int(0, 3600) / r.pick([1, 4, 10]) };
    case 2: {
      const expect = r.text(r.int(1, 30), PRINTABLE_ASCII);
      return r.chance(0.5) ? { expect, timeout: r.int(0, 3600) } : { expect };
    }
    default: {
      const regex = r.pick(['# $', '\\nhello\\r?\\n', 'riscv(32|64)', '[a-z]+@romvisor', 'Linux version \\d+\\.\\d+']);
      const flags = r.chance(0.5) ? r.pick(['', 'i', 'm', 'ims']) : undefined;
      const expect = flags === undefined ? { regex } : { regex, flags };
      return r.chance(0.5) ? { expect, timeout: r.int(1, 600) } : { expect };
    }
  }
}

export function randomGuest(r: SeededRandom): ScenarioGuest {
  const guest: ScenarioGuest = {
    appliance: randomAppliance(r),
    memoryMiB: r.int(64, 2048),
    cmdline: r.chance(0.5) ? '' : r.text(r.int(1, 80), PRINTABLE_ASCII),
    time: r.pick(TIME_MODES),
  };
  if (r.chance(0.6)) guest.script = Array.from({ length: r.int(0, 6) }, () => randomStep(r));
  return guest;
}

export function randomScenario(r: SeededRandom): Scenario {
  // Fields in schema order, as validation returns them, so even the JSON text round-trips.
  const title = r.chance(0.7) ? r.text(r.int(0, 60), PROSE) : undefined;
  const notes = r.chance(0.6) ? r.text(r.int(0, 300), `${PROSE}\n\n\t`) : undefined;
  const view = r.chance(0.6) ? VIEW_PANELS.filter(() => r.chance(0.5)) : undefined;
  // One time mode for all guests, as validation asks; names unique when given.
  const time = r.pick(TIME_MODES);
  const guests = Array.from({ length: r.int(1, 4) }, (_, i) => {
    const g = { ...randomGuest(r), time };
    return r.chance(0.3) ? { name: `guest${i}${r.text(r.int(0, 8), 'abcxyz019')}`, ...g } : g;
  });
  return {
    version: SCENARIO_VERSION,
    ...(title !== undefined && { title }),
    ...(notes !== undefined && { notes }),
    ...(view !== undefined && { view }),
    guests,
  };
}
