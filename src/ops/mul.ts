import { notYet } from './stub.js';

export const mul = notYet('MUL');
