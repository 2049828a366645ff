/**
 * A search worker thread: evaluates batches of subnets so the two (or more) cores of the machine work at
 * once. Messages are plain data (the space, genomes, limits), so any worker can take any batch.
 */
import { parentPort } from 'node:worker_threads';
import type { Limits, SubnetCost } from './resources.js';
import { measureSubnet, screenSubnet } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';

export interface CostTask {
  kind: 'screen' | 'measure';
  space: SpaceConfig;
  archs: Arch[];
  limits: Limits;
}

export type WorkerReply = { id: number; ok: true; costs: SubnetCost[] } | { id: number; ok: false; error: string };

export function runCostTask(t: CostTask): SubnetCost[] {
  const f = t.kind === 'screen' ? screenSubnet : measureSubnet;
  return t.archs.map((a) => f(t.space, a, t.limits));
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (m: { id: number; task: CostTask }) => {
    let reply: WorkerReply;
    try {
      reply = { id: m.id, ok: true, costs: runCostTask(m.task) };
    } catch (e) {
      reply = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}
