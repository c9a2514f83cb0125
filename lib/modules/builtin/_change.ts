// Shared by every task whose changes carry data to apply.
import { Change } from '../pending.js';

/** The data a planned change carries to apply; its plan always sets it, so a missing one is a bug. */
export function dataOf<D>(c: Change<D>): D {
  if (c.data === undefined) throw new Error(`internal error: the change "${c.action}" carries no data`);
  return c.data;
}
