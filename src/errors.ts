/**
 * Typed errors. Each names the thing at fault so the CLI can print one clear line
 * instead of a stack trace.
 */
export class TinymlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The .tflite file is truncated, corrupt or inconsistent. `where` locates the problem. */
export class ModelFormatError extends TinymlError {
  constructor(readonly where: string, detail: string) {
    super(`invalid model: ${where}: ${detail}`);
  }
}

/** An operator (or operator version / dtype combination) we do not implement. */
export class UnsupportedOpError extends TinymlError {
  constructor(readonly op: string, readonly nodeIndex: number, detail = '') {
    super(`unsupported op ${op} at node ${nodeIndex}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * A CONV_2D / DEPTHWISE_CONV_2D carrying explicit padding (a PAD fused in by src/plan/fuse_pad.ts): an
 * internal form TFLite cannot express, so it is never written to a .tflite file.
 */
export class ExplicitPaddingNotWritableError extends UnsupportedOpError {
  constructor(op: string, nodeIndex: number) {
    super(op, nodeIndex, 'explicit padding (a fused PAD) is internal and has no TFLite form; write the unfused graph');
  }
}

/** The model needs more SRAM or Flash than the board has. */
export class DoesNotFitError extends TinymlError {
  /** `limit` names what sets the limit: the board, or a budget the user gave. */
  constructor(readonly resource: 'SRAM' | 'Flash', readonly needBytes: number, readonly haveBytes: number, detail = '', limit = 'board has') {
    super(`${resource} does not fit: needs ${needBytes} bytes, ${limit} ${haveBytes} (short by ${needBytes - haveBytes} bytes)${detail ? `; ${detail}` : ''}`);
  }
}

/** Bad user input other than the model (input files, options). */
export class InputError extends TinymlError {}

/** An output (a file, a report, a project folder) cannot be written where the user asked. Nothing was changed. */
export class OutputError extends TinymlError {}
