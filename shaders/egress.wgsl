// egress.wgsl — the answer to message i, written as its payload words ($OUT_WORDS a message,
// fields in declared order, docs/wire-format.md). The core makes the answer's record around
// them as the pump pushes it (assembly/columns.ts): a fresh message id, the input's message
// id as correlation id, the input's priority, the send time.

@group(0) @binding(1) var<storage, read_write> rk_out: array<u32>;

fn rk_egress(i: u32, m: $OUT) {
  let p = i * $OUT_WORDSu;
//#WRITE_FIELDS
}
