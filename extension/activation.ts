/**
 * Activation timing: each Runlab plugin's activate() is wrapped so its duration is recorded as
 * a performance measure (`runlab:activate:<plugin id>`). The UI test reads and prints them,
 * against the 150 ms budget for what Runlab adds to JupyterLab's start.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function measureActivation<F extends (...args: any[]) => any>(pluginId: string, activate: F): F {
  return function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
    const start = performance.now();
    try {
      return activate.apply(this, args);
    } finally {
      performance.measure(`runlab:activate:${pluginId}`, { start, end: performance.now() });
    }
  } as F;
}
