/** Number formatting shared by the CLI, the reports and the benchmarks. */
export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export function int(n: number): string {
  return n.toLocaleString('en-US');
}

export function shapes(list: number[][]): string {
  return list.map((s) => `[${s.join(',')}]`).join(' ');
}
