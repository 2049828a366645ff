import { spawnSync } from 'node:child_process';

/**
 * The system tools some tests drive for real, and the Debian packages that provide them. Where one is
 * missing, those tests skip with one line naming the packages; under CI=true they run and fail instead,
 * because CI installs them (.ci/run) and a missing tool there must never pass as a skip.
 */
export type Tool = 'arm' | 'qemu' | 'chromium' | 'clang' | 'redis' | 'cmake';

const TOOLS: Record<Tool, { command: string; packages: readonly string[] }> = {
  arm: { command: 'arm-none-eabi-gcc', packages: ['gcc-arm-none-eabi', 'libnewlib-arm-none-eabi'] },
  qemu: { command: 'qemu-system-arm', packages: ['qemu-system-arm'] },
  chromium: { command: '/usr/bin/chromium', packages: ['chromium'] },
  clang: { command: 'wasm-ld', packages: ['clang', 'lld'] },
  redis: { command: 'redis-server', packages: ['redis-server'] },
  cmake: { command: 'cmake', packages: ['cmake'] },
};

const found = new Map<Tool, boolean>();

function present(tool: Tool): boolean {
  if (!found.has(tool)) found.set(tool, spawnSync(TOOLS[tool].command, ['--version'], { encoding: 'utf8', env: process.env }).status === 0);
  return found.get(tool)!;
}

export function missingTools(...tools: Tool[]): Tool[] {
  return tools.filter((t) => !present(t));
}

function packagesOf(tools: Tool[]): string {
  return tools.flatMap((t) => TOOLS[t].packages).join(' ');
}

/** A test's `skip` option: false when the tools are here (or under CI=true), else the reason in one line. */
export function skipWithout(...tools: Tool[]): string | false {
  if (process.env.TINYML_SKIP_QEMU === '1' && tools.includes('qemu')) return 'TINYML_SKIP_QEMU=1';
  const missing = missingTools(...tools);
  if (missing.length === 0 || process.env.CI === 'true') return false;
  return `needs the Debian packages ${packagesOf(missing)} (apt-get install ${packagesOf(missing)})`;
}

/** Fail loudly (CI) when a tool the test needs is missing. */
export function requireTools(...tools: Tool[]): void {
  const missing = missingTools(...tools);
  if (missing.length) throw new Error(`missing ${missing.map((t) => TOOLS[t].command).join(', ')}: apt-get install ${packagesOf(missing)}`);
}
