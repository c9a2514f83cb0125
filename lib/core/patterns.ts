// Ansible host patterns: names, groups, all, a:b (union), a:&b (and), a:!b (not), * globs, commas.
import { Inventory } from './inventory.js';

export function matchHosts(inv: Inventory, pattern: string): string[] {
  const parts = pattern
    .split(/[:,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  let result = new Set<string>();
  const intersect: string[][] = [];
  const exclude: string[][] = [];
  for (const p of parts) {
    if (p.startsWith('!')) exclude.push(one(inv, p.slice(1)));
    else if (p.startsWith('&')) intersect.push(one(inv, p.slice(1)));
    else for (const h of one(inv, p)) result.add(h);
  }
  for (const set of intersect) result = new Set([...result].filter((h) => set.includes(h)));
  for (const set of exclude) for (const h of set) result.delete(h);
  return [...inv.hosts.keys()].filter((h) => result.has(h));
}

function one(inv: Inventory, p: string): string[] {
  if (p === 'all' || p === '*') return inv.explicit();
  if (inv.groups.has(p)) return inv.groupHosts(p);
  if (inv.hosts.has(p)) return [p];
  if (p.includes('*') || p.includes('?')) {
    const re = new RegExp(
      '^' +
        p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.') +
        '$',
    );
    const out = new Set<string>();
    for (const g of inv.groups.keys()) if (re.test(g)) for (const h of inv.groupHosts(g)) out.add(h);
    for (const h of inv.explicit()) if (re.test(h)) out.add(h);
    return [...out];
  }
  return [];
}
