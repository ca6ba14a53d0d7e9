// egress.wgsl — the answer to message i, written as a whole record for the output ring:
// [u32 length][56-byte header][payload], $OUT_WORDS words a record (length word included),
// in the layout of docs/wire-format.md. Header words:
//   0 type id   1 payload length   2-3 timestamp   4-7 message id   8-11 correlation id
//   12 priority | flags << 8 | version << 16       13 reserved
// The timestamp is the one field left to the pump: it stamps the send time as it pushes.

@group(0) @binding(1) var<storage, read_write> rk_out: array<u32>;

// A fresh message id (a UUID version 4): the batch's random seed plus i, through an
// invertible 4 x 32-bit mix (multiply-add, cross products, xor-shift — the pcg4d shape),
// so the ids of one batch are all different and those of different batches random.
fn rk_message_id(i: u32) -> vec4<u32> {
  var v = rk_batch.seed + vec4<u32>(i, 0u, 0u, 0u);
  v = v * 1664525u + vec4<u32>(1013904223u);
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v ^= v >> vec4<u32>(16u);
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v.y = (v.y & 0xff0fffffu) | 0x00400000u; // byte 6: version 4
  v.z = (v.z & 0xffffff3fu) | 0x00000080u; // byte 8: the RFC 4122 variant
  return v;
}

fn rk_egress(i: u32, m: $OUT) {
  let src = rk_in_header(i);
  let o = i * $OUT_WORDSu;
  rk_out[o] = $OUT_RECORD_BYTESu;
  rk_out[o + 1u] = $OUT_TYPE_IDu;
  rk_out[o + 2u] = $OUT_PAYLOAD_BYTESu;
  rk_out[o + 3u] = 0u;
  rk_out[o + 4u] = 0u;
  let id = rk_message_id(i);
  for (var k = 0u; k < 4u; k++) {
    rk_out[o + 5u + k] = id[k];
    rk_out[o + 9u + k] = rk_in[src + 4u + k]; // correlation id = the input's message id
  }
  rk_out[o + 13u] = (rk_in[src + 12u] & 0xffu) | 0x00010100u; // the input's priority; has a correlation id; version 1
  rk_out[o + 14u] = 0u;
  let p = o + 15u;
//#WRITE_FIELDS
}
