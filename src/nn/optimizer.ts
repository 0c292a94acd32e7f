// Optimizers over parameter groups, as torch.optim: SGD (momentum), Adam, AdamW. Updates are recorded
// into the current step's commands; state (moments, momentum) lives on the GPU, created on first use,
// and travels in checkpoints as 'opt:<slot>:<parameter name>' tensors.

import type { CheckpointData, CheckpointTensor } from './checkpoint.ts';
import { fromArray, zeros } from '../tensor/create.ts';
import { adamStep, adamwStep, sgdStep } from '../tensor/ops/optimizer.ts';
import { keep } from '../tensor/scope.ts';
import type { Tensor } from '../tensor/tensor.ts';

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

export interface OptimizerHyper {
  lr: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  momentum?: number;
}

export interface ParamGroup {
  params: Tensor[];
  weightDecay?: number;
}

const SLOTS: Record<OptimizerKind, string[]> = { sgd: ['momentum'], adam: ['m', 'v'], adamw: ['m', 'v'] };

export class Optimizer {
  /** Updates taken so far (torch's state['step']). */
  stepCount = 0;
  private readonly state = new Map<Tensor, Tensor[]>();

  constructor(
    readonly kind: OptimizerKind,
    readonly groups: ParamGroup[],
    readonly hyper: OptimizerHyper,
  ) {
    if (!SLOTS[kind]) throw new Error(`unknown optimizer '${kind}' (sgd, adam, adamw)`);
  }

  private slotCount(): number {
    return this.kind === 'sgd' && !this.hyper.momentum ? 0 : SLOTS[this.kind].length;
  }

  /** State of `p`, zero-filled on first use (or from `initial`, when restoring). */
  private slots(p: Tensor, initial?: Array<Float32Array | undefined>): Tensor[] {
    let s = this.state.get(p);
    if (!s) {
      s = Array.from({ length: this.slotCount() }, (_, i) => {
        const values = initial?.[i];
        return keep(values ? fromArray(p.gpu, values, p.shape, { label: `opt:${p.label}` }) : zeros(p.gpu, p.shape, 'f32', `opt:${p.label}`));
      });
      this.state.set(p, s);
    }
    return s;
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    const t = this.stepCount;
    const h = this.hyper;
    for (const group of this.groups) {
      const weightDecay = group.weightDecay ?? h.weightDecay;
      for (const p of group.params) {
        if (!p.grad) continue;
        const s = this.slots(p);
        if (this.kind === 'sgd') {
          sgdStep(p, p.grad, t, { lr: h.lr, momentum: h.momentum ?? 0, weightDecay }, s[0] ?? null);
        } else {
          const update = this.kind === 'adam' ? adamStep : adamwStep;
          update(p, p.grad, s[0], s[1], t, { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay });
        }
      }
    }
  }

  /** Frees the gradients (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  describe(): CheckpointData['optimizer'] {
    const hyper: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.hyper)) if (typeof v === 'number') hyper[k] = v;
    return { kind: this.kind, step: this.stepCount, hyper };
  }

  async stateTensors(named: Array<[string, Tensor]>): Promise<CheckpointTensor[]> {
    const out: CheckpointTensor[] = [];
    for (const [name, p] of named) {
      const s = this.state.get(p);
      if (!s) continue;
      for (let i = 0; i < s.length; i++) {
        out.push({ name: `opt:${SLOTS[this.kind][i]}:${name}`, shape: [...p.shape], data: new Float32Array(await s[i].toArray()) });
      }
    }
    return out;
  }

  /** Restores step count and state saved by `stateTensors` (refuses another optimizer's state). */
  loadState(data: CheckpointData, named: Array<[string, Tensor]>): void {
    if (data.optimizer.kind !== this.kind) {
      throw new Error(`checkpoint holds '${data.optimizer.kind}' optimizer state; this run uses '${this.kind}'`);
    }
    this.stepCount = data.optimizer.step;
    const byName = new Map(data.tensors.map((t) => [t.name, t]));
    this.dispose();
    for (const [name, p] of named) {
      const initial = SLOTS[this.kind].slice(0, this.slotCount()).map((slot) => {
        const saved = byName.get(`opt:${slot}:${name}`);
        if (saved && saved.data.length !== p.size) {
          throw new Error(`checkpoint optimizer state '${saved.name}' has ${saved.data.length} values, expected ${p.size}`);
        }
        return saved?.data;
      });
      if (initial.some((v) => v)) this.slots(p, initial);
    }
  }

  dispose(): void {
    for (const s of this.state.values()) for (const t of s) t.dispose();
    this.state.clear();
  }
}
