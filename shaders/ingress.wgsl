// ingress.wgsl — message i of the batch, read straight from the bytes the pump popped off
// the kernel's input ring, unchanged: each record is [u32 length][56-byte header][payload]
// (docs/wire-format.md), every record of the batch the same size since a GPU message has
// only fixed-size fields. The runtime fills in $IN (the input struct), $IN_WORDS (a
// record's words, length word included) and the field reads, which take
// the payload's words in declared order.

@group(0) @binding(0) var<storage, read> rk_in: array<u32>;

// Word index of the header of input record i.
fn rk_in_header(i: u32) -> u32 {
  return i * $IN_WORDSu + 1u;
}

fn rk_ingress(i: u32) -> $IN {
  let p = rk_in_header(i) + 14u; // the payload follows the 14-word header
  var m: $IN;
//#READ_FIELDS
  return m;
}
