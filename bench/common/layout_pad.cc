// bench/common/layout_pad.cc — a never-called function of
// GMPLAB_LAYOUT_PAD_BYTES bytes, linked first into a benchmark binary so that
// every function after it moves. The A/A control variant (variants/BUILD.bazel)
// is go_default's policies with this pad: the same code at another layout.
#ifndef GMPLAB_LAYOUT_PAD_BYTES
#error "GMPLAB_LAYOUT_PAD_BYTES must be defined"
#endif

#define GMPLAB_STR2(x) #x
#define GMPLAB_STR(x) GMPLAB_STR2(x)

extern "C" __attribute__((used, retain, noinline)) void gmplab_layout_pad() {
  asm volatile(".skip " GMPLAB_STR(GMPLAB_LAYOUT_PAD_BYTES) ", 0x90");
}
