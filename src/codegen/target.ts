import type { Board, Core } from '../boards/boards.js';
import { TinymlError } from '../errors.js';

/**
 * What the generated project is built for:
 *  - host: the portable kernels and a command-line runner (stdio), built with the host's `cc`;
 *  - cortex-m4 / cortex-m7: the DSP kernels, startup code, a linker script with the board's memory and a
 *    semihosting runner, built with arm-none-eabi-gcc (QEMU's mps2-an386 / mps2-an500 run it);
 *  - generic: the portable kernels only, as a static library for any C99 compiler.
 */
export type Target = 'host' | 'cortex-m4' | 'cortex-m7' | 'generic';

export const TARGETS: readonly Target[] = ['host', 'cortex-m4', 'cortex-m7', 'generic'];

/** A target we cannot generate for, or that cannot run on the chosen board. */
export class UnsupportedTargetError extends TinymlError {
  constructor(readonly target: string, detail: string) {
    super(`unsupported target ${target}: ${detail}`);
  }
}

export function parseTarget(name: string): Target {
  const t = name.toLowerCase();
  if ((TARGETS as readonly string[]).includes(t)) return t as Target;
  throw new UnsupportedTargetError(name, `known targets: ${TARGETS.join(', ')}`);
}

/** Cores whose instruction set includes what a Cortex-M target build assumes (a superset runs it). */
const RUNS_ON: Readonly<Record<'cortex-m4' | 'cortex-m7', readonly Core[]>> = {
  'cortex-m4': ['cortex-m4', 'cortex-m7'],
  'cortex-m7': ['cortex-m7'],
};

/** The target a board gets when none is given: its own core if we build for it, else portable C. */
/** Stack the Cortex-M linker script reserves above .bss: call frames only (every kernel buffer is plan scratch in the arena). */
export const DEFAULT_STACK_BYTES = 8192;

/** SRAM beside the arena that a generated project takes on a board by default: its stack. */
export function reservedSramBytes(board: Board): number {
  return isCortexM(defaultTarget(board)) ? DEFAULT_STACK_BYTES : 0;
}

export function defaultTarget(board: Board): Target {
  return board.core === 'cortex-m4' || board.core === 'cortex-m7' ? board.core : 'generic';
}

/** Refuse a Cortex-M build for a board whose core cannot execute it (e.g. M7 code on an M0+). */
export function checkTargetForBoard(target: Target, board: Board): void {
  if (target === 'cortex-m4' || target === 'cortex-m7') {
    if (!RUNS_ON[target].includes(board.core)) {
      throw new UnsupportedTargetError(target, `board ${board.name} has a ${board.core} core; use --target generic for portable C`);
    }
  }
}

export function isCortexM(target: Target): target is 'cortex-m4' | 'cortex-m7' {
  return target === 'cortex-m4' || target === 'cortex-m7';
}

/** GCC flags selecting the core, its FPU and the hard-float ABI. */
export function cpuFlags(target: 'cortex-m4' | 'cortex-m7'): string {
  return target === 'cortex-m4'
    ? '-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16'
    : '-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16';
}

/** The QEMU machine that emulates a board, when there is one. */
export function qemuMachine(board: Board): string | null {
  const name = board.name.toLowerCase();
  return name === 'mps2-an386' || name === 'mps2-an500' ? name : null;
}

/** Where Flash and SRAM start: the linker script's MEMORY origins. */
export interface MemoryOrigins {
  flash: number;
  sram: number;
  /** Why these origins (for the linker script's comment). */
  source: string;
}

const ORIGINS: Readonly<Record<string, MemoryOrigins>> = {
  'mps2-an386': { flash: 0x00000000, sram: 0x20000000, source: 'QEMU mps2: ZBT SSRAM1 at 0x0, SSRAM2&3 at 0x20000000' },
  'mps2-an500': { flash: 0x00000000, sram: 0x20000000, source: 'QEMU mps2: ZBT SSRAM1 at 0x0, SSRAM2&3 at 0x20000000' },
  'stm32h743': { flash: 0x08000000, sram: 0x24000000, source: 'STM32H7: Flash bank 1, AXI SRAM' },
  'nrf52840': { flash: 0x00000000, sram: 0x20000000, source: 'nRF52840 memory map' },
};

export function memoryOrigins(board: Board): MemoryOrigins {
  const key = board.name.toLowerCase();
  if (ORIGINS[key]) return ORIGINS[key];
  if (key.startsWith('stm32')) return { flash: 0x08000000, sram: 0x20000000, source: 'STM32: Flash at 0x08000000, SRAM at 0x20000000' };
  return { flash: 0x00000000, sram: 0x20000000, source: 'Cortex-M default map: code at 0x0, SRAM at 0x20000000' };
}
