// piscina's task file for bench/workers.mjs: the same two stages, as named exports.
export { preprocess, compute } from './postmessage-stage.mjs';
