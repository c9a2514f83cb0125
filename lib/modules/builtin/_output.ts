// Shared by the tasks that quote a command's output in their messages.

/** The last n lines of a command's output, on one line. */
export function lastLines(out: string, n: number): string {
  return out.trim().split('\n').slice(-n).join(' | ');
}
