import { notYet } from './stub.js';

export const tanh = notYet('TANH');
