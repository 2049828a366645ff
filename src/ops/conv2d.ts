import { notYet } from './stub.js';

export const conv2d = notYet('CONV_2D');
