// as-pect runs the core's own specs (assembly/__tests__). The core is built for a shared,
// imported memory (threads), so we hand it one instead of the plain memory as-pect makes.
export default {
  entries: ['assembly/__tests__/**/*.spec.ts'],
  include: ['assembly/__tests__/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(_memory, createImports, instantiate, binary) {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
    return instantiate(binary, createImports({ env: { memory, now: () => performance.now() } }));
  },
  outputBinary: false,
};
