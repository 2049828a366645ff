import { notYet } from './stub.js';

export const sub = notYet('SUB');
