import { DoesNotFitError, InputError } from '../errors.js';

/** The CPU core families we target (what the code generator and cost model key on). */
export type Core = 'cortex-m0+' | 'cortex-m3' | 'cortex-m4' | 'cortex-m7' | 'cortex-m33' | 'cortex-m55' | 'xtensa-lx7';

/** Floating point in hardware: none, single precision only, or single and double. */
export type Fpu = 'none' | 'sp' | 'dp';

/** An MCU profile: what a model must fit into. Sizes are bytes available to the application. */
export interface Board {
  name: string;
  /** Other spellings findBoard accepts (dev-kit names, the QEMU machine name). */
  aliases: readonly string[];
  core: Core;
  cores: number;
  fpu: Fpu;
  clockMHz: number;
  /** SRAM usable for the tensor arena and the rest of the application's data. */
  sramBytes: number;
  /** Flash (or code memory) for weights and code. */
  flashBytes: number;
  notes: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const BOARDS: readonly Board[] = [
  {
    name: 'STM32F412',
    aliases: ['nucleo-f412zg', 'f412'],
    core: 'cortex-m4', cores: 1, fpu: 'sp', clockMHz: 100,
    sramBytes: 256 * KiB, flashBytes: 1 * MiB,
    notes: 'STM32F412ZG (NUCLEO-F412ZG): 256 KB SRAM in one region; MCUNet/TinyEngine low-end target.',
  },
  {
    name: 'STM32F746',
    aliases: ['stm32f746g-disco', 'f746'],
    core: 'cortex-m7', cores: 1, fpu: 'sp', clockMHz: 216,
    sramBytes: 320 * KiB, flashBytes: 1 * MiB,
    notes: 'STM32F746NG: 320 KB = 240 KB SRAM1 + 16 KB SRAM2 + 64 KB DTCM (plus 16 KB ITCM RAM not counted); 4+4 KB I/D caches.',
  },
  {
    name: 'STM32H743',
    aliases: ['nucleo-h743zi', 'h743'],
    core: 'cortex-m7', cores: 1, fpu: 'dp', clockMHz: 480,
    // The chip has ~1 MB of RAM in separate banks (512 KB AXI SRAM, 128 KB DTCM, 64 KB ITCM, 288 KB SRAM1-3,
    // 64 KB SRAM4). An arena is one contiguous array, so the usable figure is the largest bank, the 512 KB
    // AXI SRAM — also the number MCUNet/TinyEngine report for this board, so our fit checks compare like
    // with like.
    sramBytes: 512 * KiB, flashBytes: 2 * MiB,
    notes: 'STM32H743ZI: 512 KB = the AXI SRAM bank (largest contiguous region; TinyEngine\'s figure); other banks not counted.',
  },
  {
    name: 'nRF52840',
    aliases: ['nrf52840-dk', 'nano-33-ble', 'nrf52'],
    core: 'cortex-m4', cores: 1, fpu: 'sp', clockMHz: 64,
    sramBytes: 256 * KiB, flashBytes: 1 * MiB,
    notes: 'Nordic nRF52840 (Arduino Nano 33 BLE Sense): the BLE SoftDevice, when used, takes part of RAM and Flash.',
  },
  {
    name: 'STM32F411',
    aliases: ['nucleo-f411re', 'blackpill', 'f411'],
    core: 'cortex-m4', cores: 1, fpu: 'sp', clockMHz: 100,
    sramBytes: 128 * KiB, flashBytes: 512 * KiB,
    notes: 'STM32F411RE/CE (NUCLEO-F411RE, "Black Pill"): 128 KB SRAM, 512 KB Flash; a common low-cost board.',
  },
  {
    name: 'nRF52832',
    aliases: ['nrf52-dk', 'nrf52832-dk'],
    core: 'cortex-m4', cores: 1, fpu: 'sp', clockMHz: 64,
    sramBytes: 64 * KiB, flashBytes: 512 * KiB,
    notes: 'Nordic nRF52832: 64 KB RAM, 512 KB Flash; the small end of BLE wearables.',
  },
  {
    name: 'STM32L432',
    aliases: ['nucleo-l432kc', 'l432'],
    core: 'cortex-m4', cores: 1, fpu: 'sp', clockMHz: 80,
    sramBytes: 64 * KiB, flashBytes: 256 * KiB,
    notes: 'STM32L432KC (NUCLEO-L432KC): 64 KB SRAM (48 KB SRAM1 + 16 KB SRAM2, contiguous), 256 KB Flash; a low-power 64 KB board.',
  },
  {
    name: 'RP2040',
    aliases: ['raspberry-pi-pico', 'pico'],
    core: 'cortex-m0+', cores: 2, fpu: 'none', clockMHz: 133,
    sramBytes: 264 * KiB, flashBytes: 2 * MiB,
    notes: 'Raspberry Pi Pico: 264 KB SRAM (4 striped 64 KB banks + 2x4 KB); 2 MB external QSPI flash executed in place through a 16 KB cache; no FPU, no DSP extension.',
  },
  {
    name: 'ESP32-S3',
    aliases: ['esp32-s3-devkitc-1', 'esp32s3'],
    core: 'xtensa-lx7', cores: 2, fpu: 'sp', clockMHz: 240,
    sramBytes: 512 * KiB, flashBytes: 8 * MiB,
    notes: 'ESP32-S3 with an 8 MB flash module (e.g. ESP32-S3-WROOM-1-N8): 512 KB internal SRAM, of which Wi-Fi/BLE stacks take a share when enabled; optional PSRAM not counted.',
  },
  {
    name: 'mps2-an386',
    aliases: ['an386', 'qemu-m4'],
    core: 'cortex-m4', cores: 1, fpu: 'sp', clockMHz: 25,
    sramBytes: 4 * MiB, flashBytes: 4 * MiB,
    notes: 'QEMU MPS2 AN386 (Cortex-M4): ZBT SSRAM1 4 MB at 0x0 holds code and weights, ZBT SSRAM2&3 4 MB at 0x20000000 holds data (plus 16 MB PSRAM); 25 MHz FPGA clock. Used to count instructions, not to bound memory.',
  },
  {
    name: 'mps2-an500',
    aliases: ['an500', 'qemu-m7'],
    core: 'cortex-m7', cores: 1, fpu: 'dp', clockMHz: 25,
    sramBytes: 4 * MiB, flashBytes: 4 * MiB,
    notes: 'QEMU MPS2 AN500 (Cortex-M7): ZBT SSRAM1 4 MB at 0x0 for code, ZBT SSRAM2&3 4 MB at 0x20000000 for data (16 MB PSRAM at 0x60000000); 25 MHz FPGA clock.',
  },
];

/** Lower case without separators, so 'STM32-F412', 'esp32s3' and 'ESP32-S3' all match. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.]/g, '');
}

/** The board called `name` (case-insensitive, separators ignored, aliases accepted). */
export function findBoard(name: string): Board {
  const key = normalise(name);
  const hit = BOARDS.find((b) => normalise(b.name) === key || b.aliases.some((a) => normalise(a) === key));
  if (!hit) throw new InputError(`unknown board '${name}'; known boards: ${BOARDS.map((b) => b.name).join(', ')}`);
  return hit;
}

/** One resource's fit: positive `shortBytes` is how much is missing, negative is headroom. */
export interface ResourceFit {
  needBytes: number;
  haveBytes: number;
  shortBytes: number;
  fits: boolean;
}

export interface FitReport {
  board: string;
  fits: boolean;
  sram: ResourceFit;
  flash: ResourceFit;
}

function resourceFit(needBytes: number, haveBytes: number): ResourceFit {
  return { needBytes, haveBytes, shortBytes: needBytes - haveBytes, fits: needBytes <= haveBytes };
}

/** Whether a model needing `sramBytes` of SRAM and `flashBytes` of Flash fits `board`, and by how much not. */
export function fitReport(board: Board, sramBytes: number, flashBytes: number): FitReport {
  const sram = resourceFit(sramBytes, board.sramBytes);
  const flash = resourceFit(flashBytes, board.flashBytes);
  return { board: board.name, fits: sram.fits && flash.fits, sram, flash };
}

/** Throws DoesNotFitError naming the first resource that is short (SRAM before Flash). */
export function requireFit(report: FitReport): void {
  for (const [resource, fit] of [['SRAM', report.sram], ['Flash', report.flash]] as const) {
    if (!fit.fits) throw new DoesNotFitError(resource, fit.needBytes, fit.haveBytes, `board ${report.board}`);
  }
}
