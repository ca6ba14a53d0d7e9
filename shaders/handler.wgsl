// handler.wgsl — the GPU side of a GPU-placed ring kernel. The runtime (js/gpu.ts) fills in
// the markers: the message structs generated from the input and output schemas (fields in
// declared order, 4-byte words: f32, i32, u32 and fixed arrays of them), the optional
// resident state, and the user's `fn handle(m: In) -> Out`. One invocation handles one
// message of the batch; 64 invocations a workgroup fits both WebGPU's core and its
// compatibility mode (which caps workgroups at 128).
//
// Bindings:
//   0  rk_in     the batch's input messages, in mailbox order
//   1  rk_out    their outputs: rk_out[i] answers rk_in[i]
//   2  rk_batch  x = messages in this batch
//   3  state     resident state, kept across dispatches (only when the kernel declares it)

//#STRUCTS

@group(0) @binding(0) var<storage, read> rk_in: array<RK_IN>;
@group(0) @binding(1) var<storage, read_write> rk_out: array<RK_OUT>;
@group(0) @binding(2) var<uniform> rk_batch: vec4<u32>;
//#STATE

//#USER

@compute @workgroup_size(64)
fn rk_main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < rk_batch.x) {
    rk_out[id.x] = handle(rk_in[id.x]);
  }
}
