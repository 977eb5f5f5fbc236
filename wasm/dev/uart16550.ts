// NS16550A UART at UART_BASE, PLIC source UART_IRQ (machineMap.ts). Byte-wide registers.
// Transmission is instantaneous: a THR write lands in the TX ring that the host drains,
// so THR is always empty and the THRE interrupt fires after every write once enabled.
// Received bytes come from the RX ring that the host fills (uartPush in machine.ts).
import { UART_RX_OFFSET, UART_RX_SIZE, UART_TX_OFFSET, UART_TX_SIZE } from '../layout';
import { UART_IRQ } from '../machineMap';
import { plicSetLevel } from './plic';
import { requestStop, STOP_CONSOLE } from '../stop';


const RBR_THR: u32 = 0; // DLL when LCR.DLAB
const IER: u32 = 1; // DLM when LCR.DLAB
const IIR_FCR: u32 = 2;
const LCR: u32 = 3;
const MCR: u32 = 4;
const LSR: u32 = 5;
const MSR: u32 = 6;
const SCR: u32 = 7;

const IER_RDA: u32 = 0x01; // received data available
const IER_THRE: u32 = 0x02; // transmitter holding register empty
const IIR_NONE: u32 = 0x01;
const IIR_THRE: u32 = 0x02;
const IIR_RDA: u32 = 0x04;
const IIR_FIFO_ENABLED: u32 = 0xc0;
const LCR_DLAB: u32 = 0x80;
const LSR_DR: u32 = 0x01;
const LSR_THRE: u32 = 0x20;
const LSR_TEMT: u32 = 0x40;
const MSR_CONNECTED: u32 = 0xb0; // DCD | DSR | CTS

// Exported for the machine state (wasm/machineState.ts) only.
export let ier: u32 = 0;
export let lcr: u32 = 0;
export let mcr: u32 = 0;
export let scr: u32 = 0;
export let fcr: u32 = 0;
export let dll: u32 = 0;
export let dlm: u32 = 0;
export let threPending: bool = false;

// Rings: head is where the producer writes, tail where the consumer reads (free-running
// u32 counters; the ring sizes are powers of two).
export let rxHead: u32 = 0;
export let rxTail: u32 = 0;
export let txHead: u32 = 0;
export let txTail: u32 = 0;

function updateIrq(): void {
  const rda = (ier & IER_RDA) != 0 && rxHead != rxTail;
  const thre = (ier & IER_THRE) != 0 && threPending;
  plicSetLevel(UART_IRQ, rda || thre);
}

export function uartRead(offset: u32): u32 {
  switch (offset) {
    case RBR_THR: {
      if (lcr & LCR_DLAB) return dll;
      if (rxHead == rxTail) return 0;
      const b = <u32>load<u8>(UART_RX_OFFSET + (rxTail & (UART_RX_SIZE - 1)));
      rxTail++;
      updateIrq();
      return b;
    }
    case IER:
      return lcr & LCR_DLAB ? dlm : ier;
    case IIR_FCR: {
      const fifo = fcr & 1 ? IIR_FIFO_ENABLED : 0;
      if ((ier & IER_RDA) != 0 && rxHead != rxTail) return IIR_RDA | fifo;
      if ((ier & IER_THRE) != 0 && threPending) {
        // Reading IIR while it reports THRE clears that interrupt (16550 datasheet).
        threPending = false;
        updateIrq();
        return IIR_THRE | fifo;
      }
      return IIR_NONE | fifo;
    }
    case LCR:
      return lcr;
    case MCR:
      return mcr;
    case LSR:
      return LSR_THRE | LSR_TEMT | (rxHead != rxTail ? LSR_DR : 0);
    case MSR:
      return MSR_CONNECTED;
    case SCR:
      return scr;
  }
  return 0;
}

export function uartWrite(offset: u32, value: u32): void {
  value &= 0xff;
  switch (offset) {
    case RBR_THR: {
      if (lcr & LCR_DLAB) {
        dll = value;
        return;
      }
      if (txHead - txTail < UART_TX_SIZE) {
        store<u8>(UART_TX_OFFSET + (txHead & (UART_TX_SIZE - 1)), <u8>value);
        txHead++;
      }
      // Let the host drain well before the ring could overflow.
      if (txHead - txTail >= (UART_TX_SIZE >> 1)) requestStop(STOP_CONSOLE, 0);
      threPending = true;
      updateIrq();
      return;
    }
    case IER: {
      if (lcr & LCR_DLAB) {
        dlm = value;
        return;
      }
      // Enabling THRE with the holder empty raises the interrupt at once.
      if ((value & IER_THRE) != 0 && (ier & IER_THRE) == 0) threPending = true;
      ier = value & 0x0f;
      updateIrq();
      return;
    }
    case IIR_FCR:
      fcr = value;
      if (value & 2) rxTail = rxHead; // clear the receive FIFO
      updateIrq();
      return;
    case LCR:
      lcr = value;
      return;
    case MCR:
      mcr = value;
      return;
    case SCR:
      scr = value;
      return;
  }
}

/** Host -> guest: queue one received byte. Returns false when the ring is full. */
export function uartPush(byte: u32): bool {
  if (rxHead - rxTail >= UART_RX_SIZE) return false;
  store<u8>(UART_RX_OFFSET + (rxHead & (UART_RX_SIZE - 1)), <u8>byte);
  rxHead++;
  updateIrq();
  return true;
}

/** True once the guest's driver listens for received data (IER.ERBFI set). Before that,
 *  a driver's start-up (which clears the FIFO) would drop what the host queued. */
export function uartRxReady(): bool {
  return (ier & IER_RDA) != 0;
}

export function uartRxFree(): u32 {
  return UART_RX_SIZE - (rxHead - rxTail);
}

/** Host side: mark n transmitted bytes as consumed. */
export function uartTxConsume(n: u32): void {
  txTail += n;
}

export function uartReset(): void {
  ier = 0;
  lcr = 0;
  mcr = 0;
  scr = 0;
  fcr = 0;
  dll = 0;
  dlm = 0;
  threPending = false;
  rxHead = rxTail = txHead = txTail = 0;
}
