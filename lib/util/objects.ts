// Objects built from data: every key becomes a plain own property. `o[k] = v` and Object.assign would
// change the prototype for the key "__proto__"; defineProperty never does.

/** Sets o[key] = value as an own, enumerable data property, whatever the key. */
export function setOwn(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Object.assign with own properties only: "__proto__", "constructor" and "prototype" stay plain keys. */
export function assignOwn<T extends object>(target: T, source: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(source)) setOwn(target, k, v);
  return target;
}

/** A copy of an object's own properties, getters kept as getters (not called), then `extra` on top. */
export function overlay(base: object, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(base)) as Record<string, unknown>;
  return assignOwn(out, extra);
}
