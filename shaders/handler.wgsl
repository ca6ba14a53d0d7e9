// handler.wgsl — the frame of a GPU-placed ring kernel: one invocation handles message i of
// the batch as ingress -> the user's handle -> egress. The runtime (js/gpu/wgsl.ts) fills in the
// markers: the message structs generated from the input and output schemas (fields in
// declared order, 4-byte words: f32, i32, u32 and fixed arrays of them), ingress.wgsl and
// egress.wgsl, the optional resident state, and the user's `fn handle(m: In) -> Out`.
// 64 invocations a workgroup fits both WebGPU's core and its compatibility mode (which caps
// workgroups at 128).
//
// Bindings:
//   0  rk_in     the payloads of the batch's input records, as popped from the input ring
//   1  rk_out    the payloads of their answers: answer i answers input i
//   2  rk_batch  messages in this batch
//   3  state     resident state, kept across dispatches (only when the kernel declares it)

struct RkBatch {
  count: u32,
}
@group(0) @binding(2) var<uniform> rk_batch: RkBatch;

//#STRUCTS

//#INGRESS

//#EGRESS

//#STATE

//#USER

@compute @workgroup_size(64)
fn rk_main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < rk_batch.count) {
    rk_egress(id.x, handle(rk_ingress(id.x)));
  }
}
