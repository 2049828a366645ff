/**
 * The bundled default model: the small `fashion-cnn` trained from scratch on Fashion-MNIST by our own
 * training engine (float), quantised to int8 by our own PTQ, written by our own TFLite writer.
 * Int8 test accuracy on the full 10k test set: 89.76 % (see README). Regenerate with DEFAULT_MODEL_COMMAND.
 */
export const DEFAULT_MODEL_FILE = 'models/tinyml-default-int8.tflite';

export const DEFAULT_MODEL_COMMAND =
  'npm run build && node dist/src/cli/main.js train fashion-cnn --data ../shared/datasets/fashion-mnist --epochs 3 --out models/tinyml-default-int8.tflite';
