/** The compiled training step as text: one line per step with the buffers it reads and writes. */
import type { TrainingProgram } from './program.js';

export function describeSchedule(p: TrainingProgram): string[] {
  const name = (b: number) => `${p.buffers[b].label} (${p.buffers[b].bytes} B)`;
  return p.steps.map((s, k) => {
    const extra = s.kind === 'backward' ? `${s.accumulate ? ' +=' : ''}${s.paramGrad < 0 && 'param' in s.op && !s.discard ? ' [update fused]' : ''}${s.discard ? ' [dropped]' : ''}` : '';
    const io = `${[...new Set(s.reads)].map(name).join(', ')} -> ${s.writes.map(name).join(', ') || '(parameters)'}`;
    return `${String(k).padStart(4)} ${s.kind.padEnd(13)} ${s.label}${extra}: ${io}${s.scratchBytes ? `; scratch ${s.scratchBytes} B` : ''}`;
  });
}
