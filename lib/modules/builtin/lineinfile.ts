import { TaskType } from '../task.js';
import { WriteData } from './_write.js';
import { applyInFile, checkEdit, InFileArgs, inFileSchema, InFileState, insertAt, planInFile } from './_infile.js';

interface LineArgs extends InFileArgs {
  line?: string;
  regexp?: string;
}

/** Ansible's lineinfile on text: replace the last line matching regexp, else insert; or remove. */
export function editLines(text: string, a: LineArgs): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const re = a.regexp ? new RegExp(a.regexp) : undefined;
  const matches = (l: string) => (re ? re.test(l) : l === a.line);
  if (a.state === 'absent') {
    const kept = lines.filter((l) => !matches(l));
    return kept.length ? kept.join('\n') + '\n' : '';
  }
  const line = a.line!;
  let idx = -1;
  lines.forEach((l, i) => {
    if (matches(l)) idx = i;
  });
  if (idx >= 0) lines[idx] = line;
  else if (!lines.includes(line)) {
    lines.splice(insertAt(lines, a), 0, line);
  }
  return lines.join('\n') + '\n';
}

export const lineinfile: TaskType<LineArgs, InFileState, WriteData> = {
  name: 'lineinfile',
  readAhead: true,
  schema: inFileSchema({ line: { type: 'string' }, regexp: { type: 'string' } }),
  validate(args) {
    if (args.state !== 'absent' && args.line === undefined) return 'lineinfile needs "line" unless state is absent';
    return undefined;
  },
  check: (ctx, args) => checkEdit(ctx, args, editLines),
  plan: planInFile,
  apply: applyInFile,
};
