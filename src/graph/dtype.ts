export type DType = 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'float32' | 'bool';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  int8: 1, uint8: 1, int16: 2, int32: 4, int64: 8, float32: 4, bool: 1,
};

/** Representable range of an integer dtype (used for saturation). */
export function dtypeRange(dtype: DType): [number, number] {
  switch (dtype) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int16': return [-32768, 32767];
    case 'int32': return [-2147483648, 2147483647];
    default: throw new Error(`dtypeRange: ${dtype} is not a quantised integer type`);
  }
}
