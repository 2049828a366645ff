import { notYet } from './stub.js';

export const dequantize = notYet('DEQUANTIZE');
