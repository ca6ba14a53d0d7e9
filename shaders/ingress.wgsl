// ingress.wgsl — message i of the batch, read from the batch's payloads: the pump popped the
// kernel's input records as columns (js/gpu/records.ts), so rk_in holds each message's
// payload back to back, in the layout of docs/wire-format.md (fields in declared order,
// 4-byte words: a GPU message has only f32, i32, u32 and fixed arrays of them). That is
// also how WGSL lays out an array of $IN in a storage buffer (every member 4-byte aligned,
// no padding), so message i is rk_in[i]. The runtime fills in $IN (the input struct).

@group(0) @binding(0) var<storage, read> rk_in: array<$IN>;

fn rk_ingress(i: u32) -> $IN {
  return rk_in[i];
}
