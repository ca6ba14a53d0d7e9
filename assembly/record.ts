// record.ts — where the fields of a message record's 56-byte header are (little-endian).
// docs/wire-format.md is the specification; the validator and writers (codec.ts) and the
// column copies (columns.ts) read and write records through these offsets.
export const H_TYPE: usize = 0; //       u32 type id
export const H_PAYLOAD: usize = 4; //    u32 payload length
export const H_TIME: usize = 8; //       f64 timestamp, ms since the Unix epoch
export const H_ID: usize = 16; //        16 bytes message id
export const H_CORR: usize = 32; //      16 bytes correlation id (zero when absent)
export const H_PRIORITY: usize = 48; //  u8 priority
export const H_FLAGS: usize = 49; //     u8 flags
export const H_VERSION: usize = 50; //   u8 wire format version
export const H_RESERVED: usize = 51; //  5 bytes, zero
export const HEADER: u32 = 56;
