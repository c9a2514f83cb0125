import { TaskType } from '../task.js';
import { WriteData } from './_write.js';
import { applyInFile, checkEdit, InFileArgs, inFileSchema, InFileState, insertAt, planInFile } from './_infile.js';

interface BlockArgs extends InFileArgs {
  block?: string;
  marker?: string;
}

/** Ansible's blockinfile on text: one block between "# BEGIN/END ANSIBLE MANAGED BLOCK" markers. */
export function editBlock(text: string, a: BlockArgs): string {
  const marker = a.marker ?? '# {mark} ANSIBLE MANAGED BLOCK';
  const begin = marker.replace('{mark}', 'BEGIN');
  const end = marker.replace('{mark}', 'END');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const b = lines.indexOf(begin);
  const e = b >= 0 ? lines.indexOf(end, b) : -1;
  const blockLines = a.state === 'absent' || !a.block ? [] : [begin, ...a.block.replace(/\n$/, '').split('\n'), end];
  if (b >= 0 && e >= 0) lines.splice(b, e - b + 1, ...blockLines);
  else if (blockLines.length) {
    lines.splice(insertAt(lines, a), 0, ...blockLines);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

export const blockinfile: TaskType<BlockArgs, InFileState, WriteData> = {
  name: 'blockinfile',
  readAhead: true,
  schema: inFileSchema({ block: { type: 'string' }, marker: { type: 'string' } }),
  check: (ctx, args) => checkEdit(ctx, args, editBlock),
  plan: planInFile,
  apply: applyInFile,
};
