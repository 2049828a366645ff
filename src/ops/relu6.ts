import { notYet } from './stub.js';

export const relu6 = notYet('RELU6');
