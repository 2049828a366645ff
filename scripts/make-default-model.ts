import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MODEL_FILE, makeDefaultModel } from '../src/models/default_model.js';

/** Regenerates the bundled default model (deterministic; a test checks the committed file matches). */
const out = resolve(process.argv[2] ?? DEFAULT_MODEL_FILE);
const bytes = makeDefaultModel();
writeFileSync(out, bytes);
console.log(`wrote ${out} (${bytes.byteLength} bytes)`);
