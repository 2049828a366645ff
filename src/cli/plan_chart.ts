/**
 * Memory over execution steps as a terminal column chart: one column per step (steps are merged, keeping
 * the maximum, when there are more than `width`), eighth-block characters for the fractional top, the
 * arena size as a dashed line. Plain text: no colours, so it survives pipes and logs.
 */
const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export function memoryChart(live: readonly number[], arenaBytes: number, height = 10, width = 96): string[] {
  const per = Math.max(1, Math.ceil(live.length / width));
  const cols: number[] = [];
  for (let i = 0; i < live.length; i += per) cols.push(Math.max(...live.slice(i, i + per)));
  const top = Math.max(arenaBytes, ...cols, 1);
  const arenaRow = Math.min(height - 1, Math.floor((arenaBytes / top) * height - 1e-9));
  const label = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`.padStart(9);
  const lines: string[] = [];
  for (let row = height - 1; row >= 0; row--) {
    let line = '';
    for (const v of cols) {
      const eighths = Math.round((v / top) * height * 8) - row * 8;
      const cell = EIGHTHS[Math.max(0, Math.min(8, eighths))];
      line += cell === ' ' && row === arenaRow ? '-' : cell;
    }
    const axis = row === height - 1 ? label(top) : row === arenaRow ? label(arenaBytes) : ' '.repeat(9);
    lines.push(`${axis} |${line}`);
  }
  const ruler = cols.map((_, c) => ((c * per) % 10 === 0 ? '|' : ' ')).join('');
  lines.push(`${' '.repeat(9)} +${ruler}`);
  lines.push(`${' '.repeat(11)}step 0${' '.repeat(Math.max(1, cols.length - 14))}step ${live.length - 1}${per > 1 ? ` (${per} steps a column)` : ''}`);
  return lines;
}
