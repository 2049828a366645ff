import { notYet } from './stub.js';

export const logistic = notYet('LOGISTIC');
