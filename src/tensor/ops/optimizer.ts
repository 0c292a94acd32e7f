// In-place parameter updates: SGD (momentum, dampening, weight decay, Nesterov), Adam (L2 weight decay
// added to the gradient) and AdamW (decoupled weight decay), as PyTorch's torch.optim defines them.
// Not recorded on the tape. The caller owns the state tensors (zero-initialised, same shape as the
// parameter) and the step count t (1 for the first update), as torch keeps `state['step']`.

import source from '../../../shaders/optimizer.wgsl?raw';
import { params } from '../../gpu/params.ts';
import type { Tensor } from '../tensor.ts';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay θ ← θ·(1 − lr·λ). */
  weightDecay?: number;
}

function checkTensors(op: string, param: Tensor, ...others: Tensor[]): void {
  for (const t of [param, ...others]) {
    if (t.dtype !== 'f32') throw new TypeError(`${op}: expects f32 tensors, got ${t}`);
    if (t.size !== param.size) throw new RangeError(`${op}: ${t} does not match the parameter ${param}`);
  }
}

function checkStep(op: string, step: number): void {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`${op}: step must be an integer ≥ 1 (1 for the first update), got ${step}`);
}

function checkFinite(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) if (!Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be finite, got ${v}`);
}

/**
 * One SGD update of `param` in place (torch.optim.SGD). `momentumBuffer` is required when momentum ≠ 0;
 * on step 1 it is overwritten with the gradient, as torch creates it.
 */
export function sgdStep(param: Tensor, grad: Tensor, step: number, options: SgdOptions, momentumBuffer: Tensor | null = null): void {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
  checkStep('sgdStep', step);
  checkFinite('sgdStep', { lr, momentum, dampening, weightDecay });
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError('sgdStep: Nesterov momentum requires a momentum and zero dampening');
  checkTensors('sgdStep', param, grad, ...(momentumBuffer ? [momentumBuffer] : []));
  const gpu = param.gpu;
  const p = params().u32(param.size).f32(lr).f32(momentum).f32(dampening).f32(weightDecay).u32(nesterov ? 1 : 0).u32(step === 1 ? 1 : 0).u32(0);
  if (momentum === 0) {
    gpu.dispatch(gpu.kernel({ name: 'optimizer', source, entryPoint: 'sgd' }), p, [grad.buffer, param.buffer], Math.ceil(param.size / 256));
    return;
  }
  if (!momentumBuffer) throw new RangeError(`sgdStep: momentum ${momentum} needs a momentum buffer for ${param}`);
  const kernel = gpu.kernel({ name: 'optimizer', source, entryPoint: 'sgd_momentum' });
  gpu.dispatch(kernel, p, [grad.buffer, param.buffer, momentumBuffer.buffer], Math.ceil(param.size / 256));
}

function adamUpdate(op: string, decoupled: boolean, param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, step: number, options: AdamOptions): void {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = decoupled ? 1e-2 : 0 } = options;
  checkStep(op, step);
  checkFinite(op, { lr, beta1, beta2, eps, weightDecay });
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new RangeError(`${op}: betas must be in [0, 1), got ${beta1}, ${beta2}`);
  checkTensors(op, param, grad, expAvg, expAvgSq);
  // As torch computes them in Python floats (float64): step_size = lr / (1 − β₁ᵗ), √(1 − β₂ᵗ).
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const p = params()
    .u32(param.size)
    .f32(stepSize)
    .f32(1 - beta1)
    .f32(beta2)
    .f32(1 - beta2)
    .f32(eps)
    .f32(bc2Sqrt)
    .f32(decoupled ? 0 : weightDecay)
    .f32(decoupled ? 1 - lr * weightDecay : 1);
  const gpu = param.gpu;
  const kernel = gpu.kernel({ name: 'optimizer', source, entryPoint: 'adam' });
  gpu.dispatch(kernel, p, [grad.buffer, param.buffer, expAvg.buffer, expAvgSq.buffer], Math.ceil(param.size / 256));
}

/** One Adam update in place (torch.optim.Adam, amsgrad off); weight decay is an L2 term in the gradient. */
export function adamStep(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, step: number, options: AdamOptions): void {
  adamUpdate('adamStep', false, param, grad, expAvg, expAvgSq, step, options);
}

/** One AdamW update in place (torch.optim.AdamW, amsgrad off); weight decay defaults to 1e-2 as in torch. */
export function adamwStep(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, step: number, options: AdamOptions): void {
  adamUpdate('adamwStep', true, param, grad, expAvg, expAvgSq, step, options);
}

/**
 * float64 references of one update, mutating the arrays in place, written line for line after
 * PyTorch's `_single_tensor_sgd` (torch/optim/sgd.py) and `_single_tensor_adam` (torch/optim/adam.py;
 * AdamW = the same with `param.mul_(1 - lr * weight_decay)` instead of `grad.add(param, alpha=wd)`).
 */
export const optimizerReference = {
  sgd(param: Float64Array, grad: ArrayLike<number>, step: number, options: SgdOptions, buf: Float64Array | null = null): void {
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
    for (let i = 0; i < param.length; i++) {
      let d = grad[i];
      if (weightDecay !== 0) d = d + weightDecay * param[i]; // d_p = d_p.add(param, alpha=weight_decay)
      if (momentum !== 0 && buf) {
        // buf = clone(d_p) when None, else buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
        buf[i] = step === 1 ? d : buf[i] * momentum + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[i] : buf[i]; // d_p.add(buf, alpha=momentum) or buf
      }
      param[i] -= lr * d; // param.add_(d_p, alpha=-lr)
    }
  },
  adam(param: Float64Array, grad: ArrayLike<number>, expAvg: Float64Array, expAvgSq: Float64Array, step: number, options: AdamOptions, decoupled = false): void {
    const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = decoupled ? 1e-2 : 0 } = options;
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    for (let i = 0; i < param.length; i++) {
      let g = grad[i];
      if (decoupled) param[i] *= 1 - lr * weightDecay; // param.mul_(1 - lr * weight_decay)
      else if (weightDecay !== 0) g = g + weightDecay * param[i]; // grad = grad.add(param, alpha=weight_decay)
      expAvg[i] += (1 - beta1) * (g - expAvg[i]); // exp_avg.lerp_(grad, 1 - beta1)
      expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * g * g; // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
      const denom = Math.sqrt(expAvgSq[i]) / biasCorrection2Sqrt + eps; // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
      param[i] -= (stepSize * expAvg[i]) / denom; // param.addcdiv_(exp_avg, denom, value=-step_size)
    }
  },
};
