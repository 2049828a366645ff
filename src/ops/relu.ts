import { notYet } from './stub.js';

export const relu = notYet('RELU');
