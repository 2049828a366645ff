import { notYet } from './stub.js';

export const squeeze = notYet('SQUEEZE');
