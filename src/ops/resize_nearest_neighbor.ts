import { notYet } from './stub.js';

export const resizeNearestNeighbor = notYet('RESIZE_NEAREST_NEIGHBOR');
