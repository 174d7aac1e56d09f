/** A capability part whose adapter is not built yet: every method throws. Scaffolding while teams/ is built. */
export function unbuiltPart<T extends object>(capability: string): T {
  return new Proxy({} as T, {
    get: (_target, name) => () => Promise.reject(new Error(`${capability}.${String(name)} is not built yet`)),
  });
}
