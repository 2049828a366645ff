import { notYet } from './stub.js';

export const hardSwish = notYet('HARD_SWISH');
