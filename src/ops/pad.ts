import { notYet } from './stub.js';

export const pad = notYet('PAD');
