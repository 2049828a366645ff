/**
 * TinyNAS as a library: the search space, subnets as Graphs, their costs, stage 1 (space optimisation),
 * the weight-shared supernet and its trainer, evolution, the measured latency table and the whole search.
 *
 *   import { nas } from 'tinyml-ts';
 *   const limits = nas.boardLimits(findBoard('stm32f412'));
 *   const stage1 = await nas.optimiseSpace(nas.MBV2_CIFAR, limits, { samples: 1000 });
 *   const outcome = await nas.runSearch({ space: nas.MBV2_CIFAR, limits, ... }, data, { costs: ... });
 */
export type { Arch, BlockShape, SpaceConfig, StageSpace, SubnetShape } from './space.js';
export { MBV2_CIFAR, MBV2_SE_CIFAR, MBV2_IMAGENET, SPACES, findSpace, archKey, parseArchKey, sampleArch, mutateArch, crossoverArch, extremeArch, subnetShape } from './space.js';
export type { ParamRequest, ParamSource } from './subnet_graph.js';
export { buildSubnet, deployGraph, heInit, zeroParams } from './subnet_graph.js';
export type { Limits, ExtraLimits, SubnetCost, CostFidelity } from './resources.js';
export { boardLimits, budgetLimits, screenSubnet, measureSubnet, judgeSubnet, COST_FUNCTIONS, deployedPlan, withLatency, CODE_BYTES_PER_NODE } from './resources.js';
export type { SpaceCell, SpaceOptions, SpaceResult } from './space_opt.js';
export { optimiseSpace, cdfAt } from './space_opt.js';
export { Supernet } from './supernet.js';
export type { SupernetTrainOptions, StepReport, PassExecutor } from './train_supernet.js';
export { SupernetTrainer, sandwichArchs } from './train_supernet.js';
export type { Candidate, EvolutionOptions, EvolutionResult } from './evolution.js';
export { evolve } from './evolution.js';
export { LatencyTable, layerSignature } from './latency.js';
export { CostPool } from './pool.js';
export type { SearchConfig, SearchHooks, SearchOutcome, SearchData, TrainPhase, Deployed } from './search.js';
export { runSearch, searchData, trainAndDeploy, SEARCH_RANGE } from './search.js';
export { mobileNetV2Arch, handScaledMobileNetV2, trainFromScratch } from './baseline.js';
