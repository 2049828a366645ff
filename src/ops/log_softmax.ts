import { notYet } from './stub.js';

export const logSoftmax = notYet('LOG_SOFTMAX');
