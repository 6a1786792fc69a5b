// FNV-1a, 64 bits: the checksum that ends every saved state (the line's and the model's).

/** FNV-1a 64 of the n bytes at p. */
export function fnv1a(p: usize, n: i32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < n; i++) {
    h ^= <u64>load<u8>(p + <usize>i);
    h *= 0x100000001b3;
  }
  return h;
}
