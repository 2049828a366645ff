/**
 * The Tiny Training Engine: compile-time autodiff over the project's graphs, a training-step memory
 * plan, float and real-int8 training (QAS, sparse update), and the automatic choice of what to update
 * under a memory budget.
 *
 *   const r = trainFloat(graph, data, { epochs: 5, optimizer: { kind: 'adam', lr: 1e-3 } });
 *   const int8 = quantizeTrained(r.graph, data);          // -> writeTflite / exportTflite
 *   const t = trainInt8(int8, data, { update: { kind: 'auto' }, budgetBytes: 256 * 1024 });
 *   const mem = planTraining(graph, parseUpdate('sparse:12:-1@1,-4@0.25'));
 */
export type { Samples } from '../data/samples.js';
export { arraySamples, subsetSamples } from '../data/samples.js';
export { shuffledIndices } from '../util/random.js';

export type { UpdateSpec, UpdateRequest, WeightUpdate, TrainableParam, ResolvedUpdate, ParamRole } from './update.js';
export { parseUpdate, parseUpdateSpec, formatUpdate, resolveUpdate, selectChannels } from './update.js';

export type { Layer, LayerKind, LossHead } from './graph_prep.js';
export { layersOf, lossHead } from './graph_prep.js';

export type { BackwardOp, BackwardOpName, GradientRule, ValueUse, Want } from './gradients.js';
export { GRADIENT_RULES } from './gradients.js';

export type {
  TrainingProgram, TrainStep, TrainBuffer, BufferCategory, CompileOptions, ValueBinding,
} from './program.js';
export { compileTraining } from './compile.js';
export { describeSchedule } from './describe.js';

export type { TrainingMemoryReport, MemoryCategory, Breakdown, MemoryOptions } from './memory.js';
export { planTrainingMemory, formatBreakdown, MEMORY_CATEGORIES } from './memory.js';

export type { OptimizerSpec, Rounding } from './optimizer_spec.js';

export type { SessionOptions, StepResult, TrainingBackend } from './session.js';
export { TrainingSession, defaultTrainingBackend } from './session.js';

export type { TrainOptions, TrainResult, Progress, EpochStats } from './trainer.js';
export { trainFloat, trainInt8, isInt8 } from './trainer.js';

export type { Evaluation } from '../data/evaluate.js';
export { evaluate } from './validation.js';

export { quantizeTrained, exportTflite } from './export.js';

export type { AutoOptions, AutoResult, AutoCandidate } from './auto.js';
export { chooseUpdate } from './auto.js';
export type { LayerContribution } from './contribution.js';
export { contributions, trainableLayers } from './contribution.js';

export type { ClassifierOptions } from './head.js';
export { replaceClassifier } from './head.js';

export { TrainingBudgetError, DivergenceError, TrainingConfigError } from './errors.js';

export type { TrainRequest, TrainingOutcome, ProgressSink } from './workflow.js';
export { runTraining, planTraining, deepestLastKThatFits, FASHION_CNN_KEYWORD } from './workflow.js';
export type { RateTrial, RateChoice, ValidationSplit } from './learning_rate.js';
export { chooseLearningRate } from './learning_rate.js';
