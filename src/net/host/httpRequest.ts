/**
 * One HTTP/1.0 request to a guest's server through the host endpoint: what the page's
 * "Open port" view fetches pages, images and form posts with. HTTP/1.0 with
 * `Connection: close`, so the body is whatever comes before the guest's FIN (or
 * Content-Length bytes); no chunked encoding to parse. A response larger than
 * MAX_RESPONSE_BYTES, or a status line or headers that are not HTTP, is refused with a
 * TcpError or HttpError naming what was wrong; the guest's bytes are never trusted.
 */
import { CodedError } from '../../errors/CodedError.ts';
import type { HostEndpoint } from './HostEndpoint.ts';
import type { TcpError } from './TcpError.ts';

/** A guest page (with its images, each fetched alone) larger than this is refused. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;

export class HttpError extends CodedError<'bad-response' | 'too-large'> {
  override readonly name = 'HttpError';
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  /** The path and query, starting with '/'. */
  path: string;
  /** The Host header (the guest's name). */
  host: string;
  /** A POST's body (sent as application/x-www-form-urlencoded unless `contentType` says). */
  body?: Uint8Array;
  contentType?: string;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Header names lower-cased, in order. */
  headers: [string, string][];
  body: Uint8Array;
}

/** The first value of header `name` (lower-case). */
export function header(r: HttpResponse, name: string): string | undefined {
  return r.headers.find(([n]) => n === name)?.[1];
}

/** Sends `req` to `ip:port` through `endpoint`; resolves with the whole response. */
export function httpRequest(endpoint: HostEndpoint, ip: number, port: number, req: HttpRequest): Promise<HttpResponse> {
  const path = /^\/[\x21-\x7e]*$/.test(req.path) ? req.path : '/';
  const host = req.host.replace(/[^A-Za-z0-9.:-]/g, '');
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.0`, `Host: ${host}`, 'User-Agent: romvisor', 'Connection: close'];
  if (req.body) lines.push(`Content-Type: ${(req.contentType ?? 'application/x-www-form-urlencoded').replace(/[\r\n]/g, '')}`, `Content-Length: ${req.body.length}`);
  const head = new TextEncoder().encode(lines.join('\r\n') + '\r\n\r\n');
  return new Promise((resolve, reject) => {
    const conn = endpoint.connect(ip, port);
    const chunks: Uint8Array[] = [];
    let size = 0;
    conn.onData = (b) => {
      size += b.length;
      if (size > MAX_RESPONSE_BYTES + MAX_HEADER_BYTES) {
        conn.abort();
        reject(new HttpError('too-large', `the guest's answer to ${path} is larger than ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(b.slice());
    };
    conn.onEnd = () => {
      conn.end();
      try {
        resolve(parseResponse(concat(chunks, size), path));
      } catch (e) {
        reject(e);
      }
    };
    conn.onClose = (e?: TcpError) => {
      if (e) reject(e);
    };
    const all = req.body ? concat([head, req.body], head.length + req.body.length) : head;
    let at = 0;
    const push = () => {
      while (at < all.length) {
        const n = conn.write(all.subarray(at));
        at += n;
        if (n === 0) return;
      }
    };
    conn.onDrain = push;
    push();
  });
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits a response into status, headers and body (cut to Content-Length when it says less). */
export function parseResponse(bytes: Uint8Array, path = '/'): HttpResponse {
  let end = -1;
  for (let i = 0; i + 3 < Math.min(bytes.length, MAX_HEADER_BYTES); i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new HttpError('bad-response', `the guest's answer to ${path} has no end of headers in its first ${Math.min(bytes.length, MAX_HEADER_BYTES)} bytes`);
  const lines = new TextDecoder('latin1').decode(bytes.subarray(0, end)).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
  if (!status) throw new HttpError('bad-response', `the guest's answer to ${path} does not start with an HTTP status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    const colon = l.indexOf(':');
    if (colon > 0) headers.push([l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()]);
  }
  let body = bytes.subarray(end + 4);
  const length = Number(headers.find(([n]) => n === 'content-length')?.[1] ?? NaN);
  if (Number.isInteger(length) && length >= 0 && length < body.length) body = body.subarray(0, length);
  if (body.length > MAX_RESPONSE_BYTES) throw new HttpError('too-large', `the guest's answer to ${path} is larger than ${MAX_RESPONSE_BYTES} bytes`);
  return { status: Number(status[1]), statusText: status[2]!, headers, body };
}
