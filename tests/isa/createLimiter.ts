// A concurrency limit for child processes: the machine has two cores shared with other
// work, so the QEMU runs of the ISA tests, the fuzzer and the benchmarks go through one
// of these instead of starting everything at once.

/** Runs the jobs given to it with at most `limit` in flight, in the order given. */
export type Limiter = <T>(job: () => Promise<T>) => Promise<T>;

export function createLimiter(limit: number): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  return <T>(job: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const start = (): void => {
        running++;
        job().then(resolve, reject).finally(release);
      };
      if (running < limit) start();
      else waiting.push(start);
    });
}
