// rabbitmq.conf keys checked against the config schema the installed RabbitMQ ships
// ({mapping, "key.$name", ...} entries): RabbitMQ 3.10 has no offline check, and an unknown
// key stops the node at boot.
import { nearest } from '../../util/similar.js';

export const SCHEMA_GLOB = '/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/*/priv/schema/*.schema';
/** The keys (mappings) of every installed schema, one a line; exit 3: no schema found. The glob is not quoted. */
export const SCHEMA_KEYS_SCRIPT =
  `ls ${SCHEMA_GLOB} >/dev/null 2>&1 || exit 3; ` +
  `cat ${SCHEMA_GLOB} | grep -o '{mapping, *"[^"]*"' | sed 's/.*"\\(.*\\)"/\\1/' | sort -u`;

export interface ConfProblem {
  key: string;
  line: number;
  suggestion?: string;
}

export function unknownKeys(conf: string, mappings: string[]): ConfProblem[] {
  const patterns = mappings.map(
    (m) =>
      new RegExp(
        '^' +
          m
            .split('.')
            .map((seg) => (seg.startsWith('$') ? '[^.]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('\\.') +
          '$',
      ),
  );
  const out: ConfProblem[] = [];
  conf.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([^=\s]+)\s*=/.exec(line);
    if (!m) {
      out.push({ key: line, line: i + 1 });
      return;
    }
    if (!patterns.some((p) => p.test(m[1])))
      out.push({ key: m[1], line: i + 1, suggestion: nearest(m[1], mappings) ?? closestByPrefix(m[1], mappings) });
  });
  return out;
}

function closestByPrefix(key: string, mappings: string[]): string | undefined {
  const parts = key.split('.');
  for (let n = parts.length - 1; n > 0; n--) {
    const prefix = parts.slice(0, n).join('.') + '.';
    const hits = mappings.filter((m) => m.startsWith(prefix));
    if (hits.length) return nearest(key, hits) ?? hits.sort((a, b) => a.length - b.length)[0];
  }
  return undefined;
}
