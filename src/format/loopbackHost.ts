/**
 * Whether a URL's host name is this machine: the one place plain http is accepted for
 * images, kernels and repositories (a developer serving files from their own machine);
 * anything else could be changed on its way.
 */
export function isLoopbackHost(hostname: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(hostname);
}

/** How messages name what isLoopbackHost accepts. */
export const LOOPBACK_TEXT = 'this machine (localhost, 127.x.x.x, [::1])';

/**
 * Why the page cannot fetch `url`, or undefined if it can. The page's Content Security Policy
 * (index.html) allows plain http to http://localhost:* and http://127.0.0.1:* only: a source
 * list has no syntax for an IPv6 address (CSP3 host-source) nor for a range like 127.0.0.0/8,
 * and Chromium blocks what it does not allow with a line in its developer console alone. The
 * CLI has no such policy and reads every loopback address.
 */
export function pageFetchProblem(url: URL): string | undefined {
  if (url.protocol !== 'http:' || url.hostname === 'localhost' || url.hostname === '127.0.0.1') return undefined;
  return `${url.href}: the page reads plain http from http://localhost and http://127.0.0.1 only (its content security policy cannot name ${url.hostname}); use http://localhost:${url.port || '80'}/ or https`;
}
