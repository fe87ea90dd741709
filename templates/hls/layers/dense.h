// fxhls layer library: a dense (Gemm) layer over a stream.
//
// It reads its input vector, computes every output with a MAC kernel (conv_mac.h, as
// a convolution window's; K-hot and binary layers fold as mvu.h's MVU) and writes them as one
// beat. The input comes as BEATS beats of LANES values: one beat holding the vector,
// or the pixels of an image the ONNX graph flattens. Value c of beat p is then input
// c * BEATS + p, the (C, H, W) order of ONNX Flatten, so the kernel sees the inputs
// in the IR's order (that of a narrowed accumulator's steps) and the weights need no
// reordering.
//
// CONFIG: in_t, n_in, n_out, reuse (the compute's initiation interval: its
// multipliers are shared reuse ways) and what the kernel needs.
#ifndef FXHLS_DENSE_H_
#define FXHLS_DENSE_H_

#include "hls_stream.h"

namespace fxhls {

template <class CONFIG, class KERNEL, class OUT_PIXEL, class PARAMS_A, class PARAMS_B>
void dense_compute(const typename CONFIG::in_t x[CONFIG::n_in], const PARAMS_A& params_a, const PARAMS_B& params_b,
                   OUT_PIXEL& y) {
#pragma HLS PIPELINE II = CONFIG::reuse
  KERNEL::compute(x, params_a, params_b, y);
}

template <class CONFIG, class KERNEL, class IN_PIXEL, class OUT_PIXEL, class PARAMS_A, class PARAMS_B>
void dense(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const PARAMS_A& params_a, const PARAMS_B& params_b) {
  const int beats = CONFIG::n_in / IN_PIXEL::lanes;
  typename CONFIG::in_t x[CONFIG::n_in];
#pragma HLS ARRAY_PARTITION variable = x complete
  for (int p = 0; p < beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL beat = in.read();
    for (int c = 0; c < IN_PIXEL::lanes; c++) x[c * beats + p] = beat[c];
  }
  OUT_PIXEL y;
  dense_compute<CONFIG, KERNEL>(x, params_a, params_b, y);
  out.write(y);
}

}  // namespace fxhls

#endif  // FXHLS_DENSE_H_
