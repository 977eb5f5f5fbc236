#!/usr/bin/env node
// vhd-pin.mjs FILE EPOCH UUID
// Makes a VHD written by `qemu-img convert -O vpc` reproducible: qemu-img
// stamps the footer with the wall-clock time and a random unique id. This sets
// the footer's timestamp to EPOCH (Unix seconds) and its unique id to UUID
// (32 hex digits, dashes allowed), in both copies of the footer (the last 512
// bytes and, for dynamic disks, the copy at offset 0), and recomputes their
// checksums. Nothing else in the file changes.
//
// Footer fields used (VHD specification, "Hard Disk Footer Format"):
//   0 cookie "conectix" | 24 timestamp, u32 BE seconds since 2000-01-01 UTC
//   60 disk type, u32 BE (2 fixed, 3 dynamic, 4 differencing)
//   64 checksum, u32 BE: ones' complement of the byte sum of the footer
//      with the checksum field taken as zero | 68 unique id, 16 bytes
import { openSync, readSync, writeSync, fstatSync, closeSync } from 'node:fs';

const FOOTER_SIZE = 512;
const VHD_EPOCH = 946684800; // 2000-01-01T00:00:00Z in Unix seconds
const COOKIE = 'conectix';

const [file, epochArg, uuidArg] = process.argv.slice(2);
if (!file || !epochArg || !uuidArg) {
  console.error('usage: vhd-pin.mjs FILE EPOCH UUID');
  process.exit(2);
}
const epoch = Number(epochArg);
if (!Number.isInteger(epoch) || epoch < VHD_EPOCH || epoch - VHD_EPOCH > 0xffffffff) {
  console.error(`vhd-pin: EPOCH is "${epochArg}", expected Unix seconds after 2000-01-01`);
  process.exit(2);
}
const uuidHex = uuidArg.replace(/-/g, '');
if (!/^[0-9a-fA-F]{32}$/.test(uuidHex)) {
  console.error(`vhd-pin: UUID is "${uuidArg}", expected 32 hex digits`);
  process.exit(2);
}

function pin(footer, where) {
  const cookie = footer.toString('latin1', 0, 8);
  if (cookie !== COOKIE) {
    throw new Error(`${file}: footer at ${where}: cookie is "${cookie}", expected "${COOKIE}"`);
  }
  footer.writeUInt32BE(epoch - VHD_EPOCH, 24);
  Buffer.from(uuidHex, 'hex').copy(footer, 68);
  footer.writeUInt32BE(0, 64);
  let sum = 0;
  for (const byte of footer) sum += byte;
  footer.writeUInt32BE(~sum >>> 0, 64);
}

const fd = openSync(file, 'r+');
try {
  const size = fstatSync(fd).size;
  if (size < FOOTER_SIZE || size % 512 !== 0) {
    throw new Error(`${file}: size is ${size}, expected a multiple of 512`);
  }
  const tail = Buffer.alloc(FOOTER_SIZE);
  readSync(fd, tail, 0, FOOTER_SIZE, size - FOOTER_SIZE);
  pin(tail, `0x${(size - FOOTER_SIZE).toString(16)}`);
  const diskType = tail.readUInt32BE(60);
  writeSync(fd, tail, 0, FOOTER_SIZE, size - FOOTER_SIZE);
  if (diskType === 3 || diskType === 4) {
    // Dynamic and differencing disks repeat the footer at the start.
    const head = Buffer.alloc(FOOTER_SIZE);
    readSync(fd, head, 0, FOOTER_SIZE, 0);
    pin(head, '0x0');
    writeSync(fd, head, 0, FOOTER_SIZE, 0);
  }
} catch (err) {
  console.error(`vhd-pin: ${err.message}`);
  process.exitCode = 1;
} finally {
  closeSync(fd);
}
