import { notYet } from './stub.js';

export const transpose = notYet('TRANSPOSE');
