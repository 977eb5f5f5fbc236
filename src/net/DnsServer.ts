/**
 * The switch's DNS server (RFC 1035) at 10.0.2.3: an A record for every VM on the switch,
 * by its name alone (`web`) or in the `romvisor` domain (`web.romvisor`), any case. A known
 * name asked for another type gets an empty answer (NOERROR, "no data"), so resolvers that
 * ask for AAAA too still take the A; any other name is NXDOMAIN: no traffic leaves the
 * machine, so there is nothing to forward to.
 *
 *   header  id u16 flags u16 qdcount u16 ancount u16 nscount u16 arcount u16
 *   question  labels (length-prefixed, 0-terminated) qtype u16 qclass u16
 *   answer    name (pointer 0xc00c to the question) type class ttl u32 rdlength rdata
 */
import type { AddressBook } from './AddressBook.ts';
import { NET } from './netContract.ts';
import { NetError } from './NetError.ts';

export const DNS_PORT = 53;
const HEADER = 12;
const TYPE_A = 1;
const TYPE_ANY = 255;
const CLASS_IN = 1;
/** Seconds a resolver may keep an answer: short, since VMs come and go. */
const TTL = 60;
const RCODE = { ok: 0, formErr: 1, nxDomain: 3, notImp: 4 } as const;

export interface DnsStats {
  answered: number;
  nxdomain: number;
  /** Queries refused as malformed (FORMERR) or of an unsupported kind (NOTIMP). */
  refused: number;
}

export class DnsServer {
  readonly stats: DnsStats = { answered: 0, nxdomain: 0, refused: 0 };

  constructor(private readonly book: AddressBook) {}

  /**
   * The response to a query; undefined for a message too short to answer at all or that
   * is itself a response. Never throws: a malformed question gets FORMERR.
   */
  answer(query: Uint8Array): Uint8Array | undefined {
    if (query.length < HEADER) return undefined;
    const v = new DataView(query.buffer, query.byteOffset, query.byteLength);
    const flags = v.getUint16(2);
    if (flags & 0x8000) return undefined; // a response: never answer one (no loops between servers)
    const opcode = (flags >> 11) & 15;
    if (opcode !== 0) return this.fail(query, RCODE.notImp);
    if (v.getUint16(4) !== 1) return this.fail(query, RCODE.formErr);
    let question;
    try {
      question = readQuestion(query);
    } catch (e) {
      if (!(e instanceof NetError)) throw e;
      return this.fail(query, RCODE.formErr);
    }
    const address = this.resolve(question.labels);
    if (address === undefined) {
      this.stats.nxdomain++;
      return response(query, question.end, RCODE.nxDomain, undefined);
    }
    this.stats.answered++;
    const wantsA = (question.type === TYPE_A || question.type === TYPE_ANY) && question.cls === CLASS_IN;
    return response(query, question.end, RCODE.ok, wantsA ? address : undefined);
  }

  /** `web` or `web.romvisor`: a VM's address; anything else undefined. */
  private resolve(labels: string[]): number | undefined {
    const l = labels.map((s) => s.toLowerCase());
    if (l.length === 2 && l[1] === NET.domain) l.pop();
    return l.length === 1 ? this.book.lookup(l[0]!) : undefined;
  }

  private fail(query: Uint8Array, rcode: number): Uint8Array {
    this.stats.refused++;
    // The header alone: a question we could not read is not echoed.
    const r = query.slice(0, HEADER);
    const v = new DataView(r.buffer);
    v.setUint16(2, 0x8000 | (v.getUint16(2) & 0x7900) | 0x0400 | rcode);
    v.setUint16(4, 0);
    v.setUint16(6, 0);
    v.setUint16(8, 0);
    v.setUint16(10, 0);
    return r;
  }
}

/** The question's labels, type and class, and where it ends. Compression pointers are refused: a query has nothing to point to. */
function readQuestion(q: Uint8Array): { labels: string[]; type: number; cls: number; end: number } {
  const labels: string[] = [];
  let at = HEADER;
  for (;;) {
    if (at >= q.length) throw new NetError('truncated', `DNS question: name runs past the end at offset ${at}`, at);
    const n = q[at]!;
    if (n === 0) {
      at++;
      break;
    }
    if (n > 63) throw new NetError('bad-field', `DNS question: label length ${n} at offset ${at} (a pointer or reserved bits)`, at);
    if (at + 1 + n > q.length) throw new NetError('truncated', `DNS question: label at offset ${at} runs past the end`, at);
    labels.push(String.fromCharCode(...q.subarray(at + 1, at + 1 + n)));
    at += 1 + n;
  }
  if (at + 4 > q.length) throw new NetError('truncated', `DNS question: type and class at offset ${at} run past the end`, at);
  const v = new DataView(q.buffer, q.byteOffset, q.byteLength);
  return { labels, type: v.getUint16(at), cls: v.getUint16(at + 2), end: at + 4 };
}

/** Header, the question echoed, and one A record when `address` is given. */
function response(query: Uint8Array, questionEnd: number, rcode: number, address: number | undefined): Uint8Array {
  const r = new Uint8Array(questionEnd + (address === undefined ? 0 : 16));
  r.set(query.subarray(0, questionEnd));
  const v = new DataView(r.buffer);
  // QR, the query's opcode and RD kept, AA: this server is the authority for its names.
  v.setUint16(2, 0x8000 | (v.getUint16(2) & 0x7900) | 0x0400 | rcode);
  v.setUint16(6, address === undefined ? 0 : 1);
  v.setUint16(8, 0);
  v.setUint16(10, 0);
  if (address !== undefined) {
    const at = questionEnd;
    v.setUint16(at, 0xc000 | HEADER);
    v.setUint16(at + 2, TYPE_A);
    v.setUint16(at + 4, CLASS_IN);
    v.setUint32(at + 6, TTL);
    v.setUint16(at + 10, 4);
    v.setUint32(at + 12, address);
  }
  return r;
}
