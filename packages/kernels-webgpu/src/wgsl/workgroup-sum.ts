// The workgroup reduction the one-workgroup-per-row shaders share: every invocation of a 64-wide
// workgroup contributes a partial value and all of them get the total. Barriers come first so a
// caller may reuse `partial` right after a previous reduction.

/** WGSL: `var<workgroup> partial` and `fn row_sum(lidx, v) -> f32`, the sum of v over the workgroup. */
export const WORKGROUP_SUM = /* wgsl */ `
var<workgroup> partial: array<f32, 64>;
fn row_sum(lidx: u32, v: f32) -> f32 {
  workgroupBarrier();
  partial[lidx] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lidx < s) { partial[lidx] = partial[lidx] + partial[lidx + s]; }
    workgroupBarrier();
  }
  return partial[0];
}
`;
