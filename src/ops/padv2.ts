import { notYet } from './stub.js';

export const padv2 = notYet('PADV2');
