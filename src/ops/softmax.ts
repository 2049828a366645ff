import { notYet } from './stub.js';

export const softmax = notYet('SOFTMAX');
