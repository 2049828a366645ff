import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { extname, join } from 'node:path';
import type { Dataset } from './dataset.js';
import { makeDataset } from './dataset.js';
import { DatasetError } from './errors.js';
import type { Image } from './image.js';
import { fitImage } from './image.js';
import { decodeNetpbm } from './netpbm.js';
import { decodePng } from './png.js';

/** The image shape a model wants; images are resized (bilinear) and converted grey↔RGB to it. */
export interface ImageShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

const DECODERS: Record<string, (bytes: Uint8Array, path: string) => Image> = {
  '.png': decodePng,
  '.pgm': decodeNetpbm,
  '.ppm': decodeNetpbm,
  '.pnm': decodeNetpbm,
};
export const IMAGE_EXTENSIONS: readonly string[] = Object.keys(DECODERS);

const isHidden = (name: string) => name.startsWith('.');
const isImageName = (name: string) => extname(name).toLowerCase() in DECODERS;
/** Code-point order, so class indices do not depend on the machine's locale. */
const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function listDir(dir: string): Dirent[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new DatasetError(dir, 'folder not found');
  }
  if (!st.isDirectory()) throw new DatasetError(dir, 'is not a folder');
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => !isHidden(d.name)).sort(byName);
  } catch (e) {
    throw new DatasetError(dir, `cannot list folder: ${(e as Error).message}`);
  }
}

/** Class names of a folder of class sub-folders, checking the layout. */
export function classFolders(dir: string): string[] {
  const entries = listDir(dir);
  const classes = entries.filter((d) => d.isDirectory()).map((d) => d.name);
  const looseImages = entries.filter((d) => d.isFile() && isImageName(d.name));
  if (classes.length === 0) {
    if (looseImages.length > 0) {
      throw new DatasetError(dir, `${looseImages.length} image(s) sit directly in the folder (e.g. ${looseImages[0].name}) with no class: put each class's images in a sub-folder named after the class`);
    }
    throw new DatasetError(dir, `is empty: expected one sub-folder per class holding ${IMAGE_EXTENSIONS.join('/')} images`);
  }
  if (looseImages.length > 0) {
    throw new DatasetError(dir, `image ${looseImages[0].name} is outside any class sub-folder (classes: ${classes.join(', ')})`);
  }
  return classes;
}

function decodeFile(path: string): Image {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DatasetError(path, `unreadable image: ${(e as Error).message}`);
  }
  if (bytes.length === 0) throw new DatasetError(path, 'unreadable image: the file is empty');
  return DECODERS[extname(path).toLowerCase()](bytes, path);
}

/**
 * A folder with one sub-folder per class (`DIR/<class>/<image>.png|pgm|ppm`). Classes are numbered in
 * code-point order of their folder names, unless `classNames` fixes the order (a test split must use its
 * training split's numbering). Without `shape`, every image must already have the first one's shape.
 */
export function loadImageFolder(dir: string, shape?: ImageShape, classNames?: readonly string[]): Dataset {
  const found = classFolders(dir);
  const classes = classNames ?? found;
  const unknown = found.filter((c) => !classes.includes(c));
  if (unknown.length > 0) {
    throw new DatasetError(join(dir, unknown[0]), `class "${unknown[0]}" is not one of the training classes (${classes.join(', ')})`);
  }
  const files: { path: string; label: number }[] = [];
  for (const name of found) {
    const classDir = join(dir, name);
    const entries = listDir(classDir);
    const nested = entries.find((d) => d.isDirectory());
    if (nested) throw new DatasetError(join(classDir, nested.name), 'a class folder must hold images, not further folders');
    const images = entries.filter((d) => d.isFile() && isImageName(d.name));
    if (images.length === 0) {
      const other = entries.length > 0 ? ` (found ${entries.length} other file(s), e.g. ${entries[0].name}; readable: ${IMAGE_EXTENSIONS.join(' ')})` : '';
      throw new DatasetError(classDir, `class folder has no images${other}`);
    }
    for (const f of images) files.push({ path: join(classDir, f.name), label: classes.indexOf(name) });
  }

  let target = shape;
  let pixels: Uint8Array | null = null;
  const labels = new Int32Array(files.length);
  files.forEach((f, i) => {
    const img = decodeFile(f.path);
    if (!target) target = { height: img.height, width: img.width, channels: img.channels };
    else if (!shape && (img.height !== target.height || img.width !== target.width)) {
      throw new DatasetError(f.path, `is ${img.width}×${img.height}; the folder's first image is ${target.width}×${target.height} (give a target size to resize)`);
    }
    const t: ImageShape = target;
    const fitted = fitImage(img, t.height, t.width, t.channels);
    pixels ??= new Uint8Array(files.length * t.height * t.width * t.channels);
    pixels.set(fitted.data, i * fitted.data.length);
    labels[i] = f.label;
  });
  const t = target!;
  return makeDataset({ source: dir, count: files.length, height: t.height, width: t.width, channels: t.channels, pixels: pixels!, labels, classNames: [...classes] });
}
