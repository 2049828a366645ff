import { notYet } from './stub.js';

export const fullyConnected = notYet('FULLY_CONNECTED');
