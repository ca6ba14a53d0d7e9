// ingress.wgsl — message i of the batch, read from the batch's payloads: the pump popped the
// kernel's input records as columns (js/gpu/records.ts), so rk_in holds each message's
// payload words back to back, $IN_WORDS words a message, in the layout of
// docs/wire-format.md (fields in declared order, 4-byte words: a GPU message has only
// fixed-size fields). The runtime fills in $IN (the input struct), $IN_WORDS and the field
// reads.

@group(0) @binding(0) var<storage, read> rk_in: array<u32>;

fn rk_ingress(i: u32) -> $IN {
  let p = i * $IN_WORDSu;
  var m: $IN;
//#READ_FIELDS
  return m;
}
