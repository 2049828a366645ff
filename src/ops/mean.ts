import { notYet } from './stub.js';

export const mean = notYet('MEAN');
