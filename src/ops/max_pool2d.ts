import { notYet } from './stub.js';

export const maxPool2d = notYet('MAX_POOL_2D');
