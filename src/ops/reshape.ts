import { notYet } from './stub.js';

export const reshape = notYet('RESHAPE');
