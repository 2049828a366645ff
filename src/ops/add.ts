import { notYet } from './stub.js';

export const add = notYet('ADD');
