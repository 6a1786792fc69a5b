// The model's large work areas (sums, input rows, state, the solver's arena) live above the static data,
// in memory grown when the module starts, so the .wasm carries none of their zeros.

let heapTop: usize = (__heap_base + 15) & ~(<usize>15);

/** A 16-byte aligned area of `bytes` bytes above the static data; grows the memory as needed. */
export function reserveArea(bytes: i32): usize {
  const p = heapTop;
  heapTop += (<usize>bytes + 15) & ~(<usize>15);
  const pages = <i32>((heapTop + 0xffff) >> 16);
  const have = memory.size();
  if (pages > have && memory.grow(pages - have) < 0) unreachable();
  return p;
}
