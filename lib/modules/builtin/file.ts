import { TaskError } from '../../util/errors.js';
import { attrChanges, attrScript, FileState, fileState } from '../facts.js';
import { Change } from '../pending.js';
import { sh } from '../../connection/quote.js';
import { mustRun, normMode, TaskType } from '../task.js';
import { dataOf } from './_change.js';

interface FileArgs {
  path: string;
  state?: 'file' | 'directory' | 'absent' | 'touch' | 'link';
  mode?: string | number;
  owner?: string;
  group?: string;
  src?: string;
}

/** The script that makes one change. */
interface FileData {
  script: string;
}

export const file: TaskType<FileArgs, FileState, FileData> = {
  name: 'file',
  readAhead: true,
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string' },
      state: { enum: ['file', 'directory', 'absent', 'touch', 'link'] },
      mode: { type: ['string', 'integer'] },
      owner: { type: 'string' },
      group: { type: 'string' },
      src: { type: 'string' },
    },
    required: ['path'],
    additionalProperties: false,
  },
  validate: (a) => (a.state === 'link' && !a.src ? 'state: link needs src (what the link points to)' : undefined),
  // No sha256: the file task never looks at what a file holds.
  check: (ctx, args) => fileState(ctx, args.path, false),
  plan(a, s) {
    const state = a.state ?? (s.kind === 'absent' ? 'file' : s.kind);
    const want = { mode: normMode(a.mode), owner: a.owner, group: a.group };
    const attrs = (have: FileState, kind: 'file' | 'directory'): Change<FileData>[] => {
      if (have.kind !== kind) return [];
      const d = attrChanges(have, want);
      return d.length
        ? [
            {
              action: `${a.path}: ${d.join(', ')}`,
              effects: [{ kind: 'file', path: a.path, state: 'attrs', ...want }],
              data: { script: attrScript(a.path, want) },
            },
          ]
        : [];
    };
    switch (state) {
      case 'absent':
        return s.kind === 'absent'
          ? []
          : [
              {
                action: `remove ${a.path}`,
                effects: [{ kind: 'file', path: a.path, state: 'absent' }],
                data: { script: sh`rm -rf -- ${a.path}` },
              },
            ];
      case 'directory':
        if (s.kind === 'absent')
          return [
            {
              action: `create directory ${a.path}`,
              effects: [{ kind: 'file', path: a.path, state: 'directory', ...want }],
              data: { script: [sh`mkdir -p -- ${a.path}`, attrScript(a.path, want)].filter(Boolean).join(' && ') },
            },
          ];
        if (s.kind !== 'directory')
          throw new TaskError(`${a.path} exists and is not a directory (${s.kind}): remove it first`);
        return attrs(s, 'directory');
      case 'touch':
        if (s.kind === 'absent')
          return [
            {
              action: `create empty file ${a.path}`,
              effects: [
                {
                  kind: 'file',
                  path: a.path,
                  state: 'file',
                  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
                  content: '',
                  ...want,
                },
              ],
              data: { script: [sh`touch -- ${a.path}`, attrScript(a.path, want)].filter(Boolean).join(' && ') },
            },
          ];
        return attrs(s, s.kind === 'directory' ? 'directory' : 'file');
      case 'file':
        if (s.kind === 'absent') throw new TaskError(`${a.path} does not exist: use state: touch to create it`);
        return attrs(s, s.kind === 'directory' ? 'directory' : 'file');
      case 'link':
        if (s.kind === 'link' && s.src === a.src) return [];
        if (s.kind === 'directory') throw new TaskError(`${a.path} is a directory: cannot replace it with a link`);
        return [
          {
            action: `link ${a.path} → ${a.src}`,
            effects: [{ kind: 'file', path: a.path, state: 'link', src: a.src! }],
            data: { script: sh`ln -sfn -- ${a.src} ${a.path}` },
          },
        ];
      default:
        return [];
    }
  },
  async apply(ctx, changes) {
    if (changes.length) await mustRun(ctx, changes.map((c) => dataOf(c).script).join(' && '), changes[0].action);
  },
};
