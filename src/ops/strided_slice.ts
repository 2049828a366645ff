import { notYet } from './stub.js';

export const stridedSlice = notYet('STRIDED_SLICE');
