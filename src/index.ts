// `webgnn`: the device-agnostic API, the same in Node and in the browser. Nothing here (or below it) imports
// Node built-ins, dawn.node (`webgpu`), `ws` or `@roamhq/wrtc`: a device comes from `webgnn/node`
// (createNodeGpu) or `webgnn/browser` (createBrowserGpu), or from any GpuProvider through Gpu.create.
// The shipped .d.ts files use WebGPU's types (GPUDevice, GPUBuffer, …):
/// <reference types="@webgpu/types" preserve="true" />

// Devices
export { Gpu, GpuError } from './gpu/gpu.ts';
export type { GpuOptions } from './gpu/gpu.ts';
export { NoAdapterError } from './gpu/provider.ts';
export type { AdapterRequest, GpuProvider, ProvidedAdapter } from './gpu/provider.ts';
export { adapterKind, describeAdapter } from './gpu/adapter-description.ts';
export type { AdapterDescription, AdapterKind } from './gpu/adapter-description.ts';
export type { KernelTime } from './gpu/profiler.ts';

// Tensors, memory scopes and autograd
export { Tensor } from './tensor/tensor.ts';
export type { DType, TypedArrayFor } from './tensor/tensor.ts';
export { empty, fromArray, zeros } from './tensor/create.ts';
export type { TensorOptions } from './tensor/create.ts';
export { keep, track, withScope, withScopeAsync } from './tensor/scope.ts';
export { backward, backwardAsync, clearTape, noGrad, noGradAsync, record } from './tensor/tape.ts';
export { SparseMatrix } from './tensor/sparse-matrix.ts';
export type { SparseMatrixOptions, SparseStructure } from './tensor/sparse-matrix.ts';
export { GraphCsr } from './tensor/graph-csr.ts';

// Ops (each with its float64 CPU reference, `…Reference`)
export { matmul, matmulInto, matmulReference } from './tensor/ops/matmul.ts';
export type { MatmulOptions } from './tensor/ops/matmul.ts';
export { spmm, spmmInto, spmmReference } from './tensor/ops/spmm.ts';
export type { SpmmOptions } from './tensor/ops/spmm.ts';
export { elu, leakyRelu, relu, activationReference } from './tensor/ops/activation.ts';
export { dropout, dropoutReference } from './tensor/ops/dropout.ts';
export type { DropoutOptions } from './tensor/ops/dropout.ts';
export { add, addBias, fill, ones, scale, elementwiseReference } from './tensor/ops/elementwise.ts';
export { sumColumns, total, reduceReference } from './tensor/ops/reduce.ts';
export { gatherRows, scatterAddRows, rowsReference } from './tensor/ops/rows.ts';
export { concatColumns, sliceColumns, sliceRows, layoutReference } from './tensor/ops/layout.ts';
export { layerNorm, layerNormReference } from './tensor/ops/layer-norm.ts';
export { accuracyCounts, crossEntropy, predict, crossEntropyReference } from './tensor/ops/cross-entropy.ts';
export type { CrossEntropyOptions } from './tensor/ops/cross-entropy.ts';
export { binaryCrossEntropyWithLogits, binaryCrossEntropyReference } from './tensor/ops/binary-cross-entropy.ts';
export { gatAttention, gatAttentionReference } from './tensor/ops/gat-attention.ts';
export type { GatAttentionOptions } from './tensor/ops/gat-attention.ts';
export { gruCell, gruReference } from './tensor/ops/gru.ts';
export { timeEncoding, timeEncodingReference } from './tensor/ops/time-encoding.ts';
export { temporalAttention, temporalAttentionReference } from './tensor/ops/temporal-attention.ts';
export { rngUniform } from './tensor/random.ts';

// The model contract: a Module tree; node models are GraphModules, forward(graph, x)
export { Module, ParameterMismatchError } from './nn/module.ts';
export type { Init } from './nn/module.ts';
export { blocksOf, isGraphModule } from './nn/graph-module.ts';
export type { GraphModule } from './nn/graph-module.ts';
export { Sequential } from './nn/sequential.ts';
export { ShapeError } from './nn/input-checks.ts';
// The differentiable ops a forward composes, as one namespace: ops.relu, ops.add, ops.concatColumns, …
export * as ops from './tensor/ops/public.ts';

// Layers and models
export { GraphInput } from './nn/graph-input.ts';
export type { Aggregation, NodeGraph, RandomKey } from './nn/graph-input.ts';
export { Dropout } from './nn/dropout.ts';
export { ELU, LeakyReLU, ReLU } from './nn/activation.ts';
export { Linear } from './nn/linear.ts';
export { GCNConv } from './nn/gcn-conv.ts';
export { SAGEConv } from './nn/sage-conv.ts';
export { GATConv } from './nn/gat-conv.ts';
export type { GATConvOptions } from './nn/gat-conv.ts';
export { LayerNorm } from './nn/layer-norm.ts';
export { GCNIIConv, gcniiTheta } from './nn/gcnii-conv.ts';
export type { GCNIIConvOptions } from './nn/gcnii-conv.ts';
export { GCNII, GCNIIBlock, GCNIIInput, GCNIIOutput, GCNII_DEFAULTS } from './nn/models/gcnii.ts';
export type { GCNIIConfig } from './nn/models/gcnii.ts';
export { ResGCNPlus, ResGCNPlusBlock } from './nn/models/resgcn.ts';
export type { ResGCNConfig } from './nn/models/resgcn.ts';
export { ResidualConvBlock } from './nn/models/residual-conv-block.ts';
export { DEFAULT_LAYERS, NodeClassifier } from './nn/models/node-classifier.ts';
export type { NodeModelConfig, NodeModelKind } from './nn/models/node-classifier.ts';
export { builtinModel, modelConfigFor, resolveModelConfig } from './nn/models/builtin.ts';
export type { BuiltinModelOptions } from './nn/models/builtin.ts';
// Temporal models: the contract TemporalEngine schedules, and TGN built from replaceable parts
export { TemporalModel } from './nn/temporal-model.ts';
export type { BatchMemory, TemporalBatch, TemporalBatchOutput, TemporalMemoryUpdate } from './nn/temporal-model.ts';
export { IdentityMessage, LastMessageAggregator } from './nn/tgn/parts.ts';
export type { LinkScorer, MemoryUpdater, MessageAggregator, MessageFunction, TemporalEmbedding } from './nn/tgn/parts.ts';
export { Tgn, TGN_DEFAULTS } from './nn/tgn/tgn.ts';
export type { TgnConfig, TgnParts } from './nn/tgn/tgn.ts';
export { GRUCell } from './nn/tgn/gru-cell.ts';
export { TimeEncoder } from './nn/tgn/time-encoder.ts';
export { TemporalAttentionLayer } from './nn/tgn/temporal-attention-layer.ts';
export type { TemporalAttentionConfig } from './nn/tgn/temporal-attention-layer.ts';
export { LinkPredictor } from './nn/tgn/link-predictor.ts';
export { NodeMemory } from './nn/tgn/node-memory.ts';
export { HostNodeMemory } from './nn/tgn/host-memory.ts';
export { MemoryOrderError } from './nn/tgn/memory-store.ts';
export type { TgnMemoryStore } from './nn/tgn/memory-store.ts';

// Optimizers
export { Optimizer } from './nn/optimizer.ts';
export type { OptimizerHyper, OptimizerKind, ParamGroup } from './nn/optimizer.ts';

// Engines: one interface, every mode
export type { Engine, EngineMode, EpochMetrics } from './engines/engine.ts';
export { SingleEngine } from './engines/single.ts';
export type { NodeTrainingOptions } from './engines/training-state.ts';
export { consumeRun, loopOptions, trainNodeClassification, trainToEnd } from './engines/node-classification.ts';
export type { NodeLoopOptions, NodeRunOptions, NodeRunSummary, TrainOptions, TrainResult } from './engines/node-classification.ts';
export { trainNodeModel } from './engines/train-node-model.ts';
export { checkPartitionable, PartitionError } from './engines/sar/partition-check.ts';
export { EarlyStopping } from './engines/early-stopping.ts';
export { SarEngine } from './engines/sar/sar-engine.ts';
export { SarWorker } from './engines/sar/sar-worker.ts';
export type { SarEpochResult, SarWorkerOptions } from './engines/sar/sar-worker.ts';
export { placeForSar } from './engines/sar/placement.ts';
export type { PartitionMethod, SarPlacement } from './engines/sar/placement.ts';
export { TemporalEngine, TrainingStopped } from './engines/temporal.ts';
export type { TemporalEpochMetrics, TemporalTrainingOptions } from './engines/temporal.ts';
export { TemporalRunSummary } from './engines/temporal-run-summary.ts';
export { checkStaleness, isStalenessSetting, parseStaleness } from './engines/staleness-policy.ts';
export type { StalenessSetting } from './engines/staleness-policy.ts';
export { averagePrecision, rocAuc } from './engines/link-metrics.ts';
export type { EvaluationMetric } from './engines/link-metrics.ts';
// DistTGL: memory, epoch and mini-batch parallelism over any transport
export { createDistTglEngine } from './engines/temporal/disttgl-run.ts';
export { DistTglEngine } from './engines/temporal/disttgl-engine.ts';
export type { DistTglEpochMetrics, TrainerHandle } from './engines/temporal/disttgl-engine.ts';
export { DistTglTrainer } from './engines/temporal/disttgl-trainer.ts';
export type { DistTglEpochResult, DistTglOptions } from './engines/temporal/disttgl-trainer.ts';
export { describeLayout, parseParallel, trainerPosition } from './engines/temporal/parallel-layout.ts';
export type { ParallelLayout, TrainerPosition } from './engines/temporal/parallel-layout.ts';

// Data: node-classification datasets, event streams, graphs and partitions
export { loadNodeDataset, NODE_DATASET_FILES } from './graph/node-dataset.ts';
export type { DatasetSource, LoadNodeDatasetOptions, NodeDataset } from './graph/node-dataset.ts';
export { DatasetError } from './graph/dataset-error.ts';
export { eventStreamFromArrays, loadEventStream } from './graph/event-stream.ts';
export type { EventArrays, EventStream, LoadEventStreamOptions } from './graph/event-stream.ts';
export { firstEvents } from './graph/event-stream-prefix.ts';
export { requireEverySet, splitEvents } from './graph/temporal-split.ts';
export type { TemporalSplit, TemporalSplitOptions } from './graph/temporal-split.ts';
export { TemporalCsr } from './graph/temporal-csr.ts';
export { NegativeSampler } from './graph/negative-sampler.ts';
export { buildAdjacency, normalizedAdjacency, transposeCsr } from './graph/csr.ts';
export type { Csr, Normalization } from './graph/csr.ts';
export { edgeCut, partitionGraph, randomPartition } from './graph/partition.ts';
export type { Partition, PartitionOptions } from './graph/partition.ts';
export { powerLawGraph, syntheticNodeDataset } from './graph/synthetic.ts';
export type { SyntheticNodeDatasetOptions } from './graph/synthetic.ts';

// Checkpoints: one format in Node and in the browser
export { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './nn/checkpoint.ts';
export type { CheckpointData, CheckpointTensor } from './nn/checkpoint.ts';

// Distributed: transports that need no Node built-in (WebRTC takes its RTCPeerConnection and WebSocket as options)
export { PeerError } from './dist/transport.ts';
export type { Transport, TransportStats } from './dist/transport.ts';
export { LocalTransport } from './dist/local-transport.ts';
export { allGather, allReduceSum, barrier } from './dist/collectives.ts';
export { WebRtcTransport, connectWebRtc } from './dist/webrtc-transport.ts';
export type { WebRtcOptions } from './dist/webrtc-transport.ts';
export { SignalingClient, connectSignaling } from './dist/signaling-client.ts';

// Planning: predicted memory, traffic and epoch time per worker before having the machines
export { planGraph, planTemporal, partitionShapeFor } from './plan/plan.ts';
export type { Cluster, GraphPlanRequest, PlanMode, PlanResult, TemporalPlanRequest } from './plan/plan.ts';
export type { MemoryByKind, PlanRow, WorkerPlan } from './plan/plan-types.ts';
export { formatBytes } from './plan/plan-types.ts';
export { largestFitting } from './plan/largest-fitting.ts';
export { GRAPH_PRESETS, EVENT_PRESETS } from './plan/presets.ts';
export { graphWorkloadOf, describedGraph } from './plan/workload.ts';
export type { EventWorkload, GraphWorkload } from './plan/workload.ts';
export { modelCost, PLANNED_MODELS } from './plan/model-cost.ts';
export type { ModelSpec } from './plan/model-cost.ts';
export { TEMPORAL_DEFAULTS } from './plan/temporal-cost.ts';
export { kernelSeconds, parseDeviceProfile, parseDeviceProfileText, ProfileError } from './plan/device-profile.ts';
export type { DeviceProfile, DeviceSpec, LinkSpec, RatePoint } from './plan/device-profile.ts';
