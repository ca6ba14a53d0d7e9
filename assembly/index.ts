// The wasm core: one module, instantiated by every thread over one shared memory.
// Built with --runtime stub: nothing here allocates; js/core/core.ts carves every region.
export * from "./ring";
export * from "./codec";
export * from "./scheduler";
export {
  columns_write_records,
  // the column layout's offsets, for the facade's tests (js/message/columns.ts, enum Col)
  COL_TYPE, COL_RECORD_LEN, COL_TIMESTAMP, COL_SEED, COL_PRIORITY, COL_FIELD_COUNT, COL_TIMES, COL_TEMP,
  COL_BLOCKED, COL_BLOCKED_TYPE, COL_BLOCKED_LEN, COL_INDEX0, COL_IDS, COL_PRIORITIES, COL_FIELDS, COL_FIELD_BYTES,
  COL_FIELD_COLUMN, COL_FIELD_SIZE, COL_FIELD_OFFSET,
} from "./columns";

/** First free byte after the module's static data: where js/core/core.ts starts carving. */
export function heap_base(): usize { return __heap_base; }
