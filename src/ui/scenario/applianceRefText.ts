/** An appliance reference as a person reads it: "base (built-in)", "https://… (sha256 1a2b3c…)". */
import type { ApplianceRef } from '../../scenario/index.ts';

export function applianceRefText(a: ApplianceRef): string {
  if ('builtin' in a) return `${a.builtin} (built-in)`;
  if ('local' in a) return `${a.local} (an image in this browser)`;
  if ('repo' in a) return `${a.name}${a.version ? `@${a.version}` : ''} (repository ${a.repo})`;
  return `${a.url} (sha256 ${a.sha256.slice(0, 12)}…)`;
}
