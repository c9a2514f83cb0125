// The one function that quotes values for the POSIX shell. Every interpolated value goes through it.
export function q(value: string | number): string {
  const s = String(value);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Tagged template: sh`rm -f ${path}` quotes every interpolated value; arrays become quoted words. */
export function sh(strings: TemplateStringsArray, ...values: unknown[]): string {
  let out = strings[0];
  values.forEach((v, i) => {
    out += Array.isArray(v) ? v.map((x) => q(String(x))).join(' ') : q(String(v));
    out += strings[i + 1];
  });
  return out;
}
