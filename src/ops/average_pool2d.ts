import { notYet } from './stub.js';

export const averagePool2d = notYet('AVERAGE_POOL_2D');
