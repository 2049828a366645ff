import { notYet } from './stub.js';

export const depthwiseConv2d = notYet('DEPTHWISE_CONV_2D');
