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
