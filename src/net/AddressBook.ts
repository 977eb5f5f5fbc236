/**
 * Which guest has which address on a switch: each VM name gets 10.0.2.15 + n with n from
 * the name's hash, so a name keeps its address from run to run and from server to server,
 * whatever order the VMs start in. Two names whose hashes meet take the next free address
 * (then the one attached first keeps the hashed one). DHCP hands these out; DNS answers them.
 */
import { NET, nameHash } from './netContract.ts';
import { NetError } from './NetError.ts';

export class AddressBook {
  private readonly byName = new Map<string, number>();
  private readonly taken = new Set<number>();

  /** The address of `name`, assigning it now if the name is new. */
  assign(name: string): number {
    const key = name.toLowerCase();
    const known = this.byName.get(key);
    if (known !== undefined) return known;
    if (this.taken.size >= NET.guestCount) throw new NetError('bad-port', `no guest address left for "${name}": all ${NET.guestCount} are in use`);
    let n = nameHash(key) % NET.guestCount;
    while (this.taken.has(n)) n = (n + 1) % NET.guestCount;
    this.taken.add(n);
    const address = NET.firstGuest + n;
    this.byName.set(key, address);
    return address;
  }

  /** The address of `name` (any case), or undefined when no VM of that name is on the switch. */
  lookup(name: string): number | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Frees `name`'s address (its VM left the switch). */
  release(name: string): void {
    const key = name.toLowerCase();
    const address = this.byName.get(key);
    if (address === undefined) return;
    this.byName.delete(key);
    this.taken.delete(address - NET.firstGuest);
  }
}
