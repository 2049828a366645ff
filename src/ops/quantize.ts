import { notYet } from './stub.js';

export const quantize = notYet('QUANTIZE');
