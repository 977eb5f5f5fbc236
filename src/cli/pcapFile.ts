/**
 * `--pcap FILE`: everything a run's switch carries, as a classic libpcap file (PcapWriter),
 * written as the frames pass so a capture survives a run that is killed.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PcapWriter, type EthernetSwitch } from '../net/index.ts';

/** Starts capturing `sw` into `path` (created, or emptied); returns the function that stops and closes it. */
export function captureToFile(sw: EthernetSwitch, path: string): () => void {
  const fd = openSync(path, 'w');
  const writer = new PcapWriter((chunk) => writeSync(fd, chunk));
  const untap = sw.tap((frame, timeUs) => writer.write(frame, timeUs));
  return () => {
    untap();
    closeSync(fd);
  };
}
