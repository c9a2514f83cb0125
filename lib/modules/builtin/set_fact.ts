import { TaskType } from '../task.js';

export const set_fact: TaskType<Record<string, unknown>, null> = {
  name: 'set_fact',
  schema: { type: 'object', minProperties: 1 },
  check: async () => null,
  plan: () => [],
  facts: (a) => a,
  async apply() {},
};
