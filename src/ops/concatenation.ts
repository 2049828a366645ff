import { notYet } from './stub.js';

export const concatenation = notYet('CONCATENATION');
