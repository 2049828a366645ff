import { InputError } from '../errors.js';

/**
 * A dataset file or folder is missing, corrupt or inconsistent. `path` names the file or folder at
 * fault so the CLI's one-line message says where to look.
 */
export class DatasetError extends InputError {
  constructor(readonly path: string, readonly detail: string) {
    super(`dataset ${path}: ${detail}`);
  }
}
