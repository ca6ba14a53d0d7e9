# workerd configuration for the workerd suite (tests/workerd/run.mjs): one worker whose
# modules are the test, the facade's workerd entry and the wasm core (imported, as workerd
# compiles no wasm from bytes).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "tests/workerd/worker.mjs", esModule = embed "worker.mjs"),
    (name = "tests/runtimes/supervision-check.mjs", esModule = embed "../runtimes/supervision-check.mjs"),
    (name = "dist/workerd.js", esModule = embed "../../dist/workerd.js"),
    (name = "dist/ringkernel-single.wasm", wasm = embed "../../dist/ringkernel-single.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
