import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { build } from 'esbuild';

/**
 * Builds the static page: web/src/main.ts bundled by esbuild for the browser, index.html, and the committed
 * WebAssembly kernel library, into one folder to serve as it is. Run by `npm run build:web` and by the
 * page's test (test/web/page.test.ts), offline.
 */

/** The repo root, from web/ (sources) or dist/web/ (compiled). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!readdirSync(dir).includes('package.json')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above web/build');
    dir = up;
  }
  return dir;
}

export const ROOT = repoRoot();
export const DEFAULT_OUT_DIR = join(ROOT, 'web', 'dist');

/**
 * The library's Node-only modules and their browser twins (same exports). Everything else the page
 * reaches in src/ must run as it is; esbuild fails the build on any `node:` import left.
 */
const BROWSER_TWINS: Readonly<Record<string, string>> = {
  'src/codegen/csrc_source.ts': 'src/codegen/csrc_source.browser.ts',
};

/** The C library's text files the browser needs (lowering reads struct layouts, projects carry kernels and the harness). */
function csrcTextFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const sub of ['kernels', 'harness']) {
    for (const f of readdirSync(join(ROOT, 'csrc', sub)).sort()) files[`${sub}/${f}`] = readFileSync(join(ROOT, 'csrc', sub, f), 'utf8');
  }
  return files;
}

function browserPlugin(): Plugin {
  return {
    name: 'tinyml-browser',
    setup(b) {
      b.onResolve({ filter: /^tinyml:csrc$/ }, () => ({ path: 'csrc', namespace: 'tinyml-csrc' }));
      b.onLoad({ filter: /.*/, namespace: 'tinyml-csrc' }, () => ({ contents: JSON.stringify(csrcTextFiles()), loader: 'json' }));
      b.onResolve({ filter: /\.js$/ }, (args) => {
        if (!args.resolveDir || !args.path.startsWith('.')) return undefined;
        const rel = relative(ROOT, resolve(args.resolveDir, args.path)).replace(/\.js$/, '.ts');
        const twin = BROWSER_TWINS[rel];
        return twin ? { path: join(ROOT, twin) } : undefined;
      });
    },
  };
}

export interface WebBuild {
  outDir: string;
  files: string[];
  bundleBytes: number;
  /** The source files in the bundle, relative to the repo root (`tinyml-csrc:csrc` for the C library's text). */
  inputs: string[];
}

/** Build the page into `outDir` (replaced whole). */
export async function buildWeb(outDir = DEFAULT_OUT_DIR, opts: { minify?: boolean } = {}): Promise<WebBuild> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, 'web', 'src', 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: opts.minify ?? true,
    // Error classes keep their names: the page shows `ModelFormatError: …` as the CLI does.
    keepNames: true,
    sourcemap: true,
    plugins: [browserPlugin()],
    logLevel: 'silent',
    metafile: true,
  });
  copyFileSync(join(ROOT, 'web', 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(ROOT, 'csrc', 'wasm', 'tm_kernels.wasm'), join(outDir, 'tm_kernels.wasm'));
  const files = readdirSync(outDir).sort();
  const inputs = Object.keys(result.metafile.inputs).map((p) => (p.includes(':') ? p : relative(ROOT, resolve(p)))).sort();
  return { outDir, files, bundleBytes: statSync(join(outDir, 'app.js')).size, inputs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT_DIR;
  buildWeb(out).then((r) => {
    console.log(`web page built in ${relative(process.cwd(), r.outDir) || '.'}: ${r.files.join(', ')} (app.js ${(r.bundleBytes / 1024).toFixed(0)} KB)`);
  }, (e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
