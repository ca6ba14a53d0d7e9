// ringkernel — public entry point.
export * from './errors.js';
export { RingKernelRuntime } from './runtime.js';
export type { RuntimeOptions, ConnectOptions, TerminateOptions, LaunchOptions } from './runtime.js';
export type { RemoteTransport, RemoteInbox, RemoteExposure, InboxRecord, OutgoingRecord, PublishOptions, RemoteStats, InboxStats, OutboxStats } from './remote.js';
export { ringKernel, definedKernelIds, undefineKernel } from './kernel/kernel.js';
export type { KernelOptions, KernelDefinition, KernelFunction, Placement, MessageOf, InputOf, OutputOf } from './kernel/kernel.js';
export { KernelContext } from './kernel/context.js';
export type { ColumnArray, ColumnBatch, ColumnReceiveOptions, Columns, SendColumnsOptions } from './message/columns.js';
export type { ReceiveOptions, SendOptions, KernelRuntime } from './kernel/context.js';
export { KernelState, BackpressureStrategy } from './kernel/state.js';
export type { KernelTelemetry } from './telemetry/telemetry.js';
export type { RestartPolicy } from './supervision/policy.js';
export type { DeadLetter } from './supervision/dead-letters.js';
export type { KernelEvent, KernelEventType, KernelEventDetails } from './supervision/events.js';
export { METRICS, prometheusText, PROMETHEUS_CONTENT_TYPE } from './telemetry/metrics.js';
export type { MetricRow, ScalarMetric, SummaryMetric } from './telemetry/metrics.js';
export type { MeterObservation, MeterLike, TelemetrySource } from './telemetry/opentelemetry.js';
export type { Topology, TopologyKernel, TopologyEdge, KernelPlacement, ConnectMode } from './telemetry/topology.js';
export { message, Message, sentAt } from './message/message.js';
export { decodeMessage } from './message/decode.js';
export { encodeMessage } from './message/encode.js';
export { ready, installValidator } from './core/codec-core.js';
export { messageClassById, messageClassByName } from './message/message-registry.js';
export type { MessageClass, MessageInstance, MessageOptions, Init, Values } from './message/message.js';
export { t } from './message/schema.js';
export type { FieldType, Fields, Json } from './message/schema.js';
// The core, for those who build on the rings directly.
export { createCore, attachCore, compileCore, setWasmSource, canShareMemory, whyNoSharedMemory, Core, OwnerCore, Status, Strategy } from './core/core.js';
export type { CoreExports, QueueStats, WasmSource } from './core/core.js';
export { Ring } from './core/ring.js';
export type { RingOptions } from './core/ring.js';
export { gpuAdapterName, gpuDevice } from './gpu/device.js';
export type { GpuState } from './gpu/wgsl.js';
// Internal: the entry of pool workers (dist/worker.js). Not part of the API.
export { startWorkerHost as __startWorkerHost } from './worker/host.js';
