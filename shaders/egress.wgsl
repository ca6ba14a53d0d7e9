// egress.wgsl — the answer to message i, written as its payload (fields in declared order,
// docs/wire-format.md: as WGSL lays out an array of $OUT in storage, see ingress.wgsl). The
// core makes the answer's record around it as the pump pushes it (assembly/columns.ts): a
// fresh message id, the input's message id as correlation id, the input's priority, the
// send time.

@group(0) @binding(1) var<storage, read_write> rk_out: array<$OUT>;

fn rk_egress(i: u32, m: $OUT) {
  rk_out[i] = m;
}
