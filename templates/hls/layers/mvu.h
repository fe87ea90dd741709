// fxhls layer library: a K-hot or binary layer folded as FINN's matrix-vector unit,
// with the folding fxhls's Verilog takes for the same layer (fxhls.rtl.folding).
//
// Each input vector (a convolution window, or a dense layer's input) takes SF x NF
// clocks: at step (nf, sf) the PE outputs nf * PE .. nf * PE + PE - 1 each add the
// products of the SIMD inputs sf * SIMD .. sf * SIMD + SIMD - 1 to their partial sum, in
// the IR's order (a narrowed accumulator sees its products in the emulator's order).
// SF = n_in / SIMD, NF = n_out / PE; the weights are partitioned by PE rows and SIMD
// columns, so a step reads its SIMD x PE weights at once. The vectors come from a
// process of their own (the window generator, or the dense input's reader), so reading
// the input overlaps the folds: a layer takes max(its input walk, vectors x SF x NF)
// clocks per sample.
//
// KERNEL (khot_kernel in khot.h, bnn_kernel in bnn.h) gives partial_t and
//   start(params_b, o)                       the partial sum before any product
//   accumulate<SIMD>(acc, x, params_a, o, k) acc plus the products of inputs k .. k + SIMD - 1
//   finish(params_b, o, acc, y)              y[o], the output value
// CONFIG: in_t, n_in (inputs per output: its group's), n_out, groups, group_out, simd, pe.
#ifndef FXHLS_MVU_H_
#define FXHLS_MVU_H_

#include "conv2d.h"
#include "hls_stream.h"
#include "stream.h"

namespace fxhls {

// The inputs of one output vector: a convolution window or a dense input, in IR order.
template <class CONFIG>
struct mvu_vector {
  typedef pixel<typename CONFIG::in_t, CONFIG::groups * CONFIG::n_in> type;
};

template <class CONFIG, class KERNEL, int VECTORS, class OUT_PIXEL, class PARAMS_A, class PARAMS_B>
void mvu(hls::stream<typename mvu_vector<CONFIG>::type>& in, hls::stream<OUT_PIXEL>& out, const PARAMS_A& params_a,
         const PARAMS_B& params_b) {
  const int sf = CONFIG::n_in / CONFIG::simd, nf = CONFIG::n_out / CONFIG::pe;
#pragma HLS ARRAY_PARTITION variable = params_a cyclic factor = CONFIG::pe dim = 1
#pragma HLS ARRAY_PARTITION variable = params_a cyclic factor = CONFIG::simd dim = 2
#pragma HLS ARRAY_PARTITION variable = params_b cyclic factor = CONFIG::pe dim = 1
  typename mvu_vector<CONFIG>::type x;
  typename KERNEL::partial_t acc[CONFIG::pe];
#pragma HLS ARRAY_PARTITION variable = acc complete
  OUT_PIXEL y;
  for (int step = 0; step < VECTORS * nf * sf; step++) {
#pragma HLS PIPELINE II = 1
    const int s = step % sf, n = (step / sf) % nf;
    if (s == 0 && n == 0) x = in.read();
    for (int p = 0; p < CONFIG::pe; p++) {
      const int o = n * CONFIG::pe + p;
      if (s == 0) acc[p] = KERNEL::start(params_b, o);
      acc[p] = KERNEL::template accumulate<CONFIG::simd>(acc[p], x.data, params_a, o, s * CONFIG::simd);
      if (s == sf - 1) KERNEL::finish(params_b, o, acc[p], y);
    }
    if (s == sf - 1 && n == nf - 1) out.write(y);
  }
}

// A convolution's windows, in IR order, one per output pixel, walking the zero-padded
// image a pixel per clock (conv2d.h's line buffer and window).
template <class CONFIG, class IN_PIXEL>
void conv2d_windows(hls::stream<IN_PIXEL>& in, hls::stream<typename mvu_vector<CONFIG>::type>& out) {
  typedef conv_window<CONFIG> geometry;
  typename CONFIG::in_t lines[geometry::line_rows][geometry::padded_w][geometry::channels];
#pragma HLS ARRAY_PARTITION variable = lines complete dim = 1
#pragma HLS ARRAY_PARTITION variable = lines complete dim = 3
  typename CONFIG::in_t window[CONFIG::kernel_h][CONFIG::kernel_w][geometry::channels];
#pragma HLS ARRAY_PARTITION variable = window complete dim = 0
  for (int row = 0; row < geometry::padded_h; row++) {
    for (int col = 0; col < geometry::padded_w; col++) {
#pragma HLS PIPELINE II = 1
      if (geometry::advance(in, row, col, lines, window)) {
        typename mvu_vector<CONFIG>::type x;
        geometry::taps_in_order(window, x.data);
        out.write(x);
      }
    }
  }
}

// A convolution folded as the MVU: its window generator and its MVU, two processes.
template <class CONFIG, class KERNEL, class IN_PIXEL, class OUT_PIXEL, class PARAMS_A, class PARAMS_B>
void conv2d_mvu(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const PARAMS_A& params_a,
                const PARAMS_B& params_b) {
#pragma HLS DATAFLOW
  hls::stream<typename mvu_vector<CONFIG>::type> windows;
  conv2d_windows<CONFIG>(in, windows);
  mvu<CONFIG, KERNEL, CONFIG::out_height * CONFIG::out_width>(windows, out, params_a, params_b);
}

// A dense layer's input as one vector: beat p's value c is input c * BEATS + p (dense.h).
template <class CONFIG, class IN_PIXEL>
void dense_vector(hls::stream<IN_PIXEL>& in, hls::stream<typename mvu_vector<CONFIG>::type>& out) {
  const int beats = CONFIG::n_in / IN_PIXEL::lanes;
  typename mvu_vector<CONFIG>::type x;
  for (int p = 0; p < beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL beat = in.read();
    for (int c = 0; c < IN_PIXEL::lanes; c++) x[c * beats + p] = beat[c];
  }
  out.write(x);
}

// A dense layer folded as the MVU: its input reader and its MVU, two processes.
template <class CONFIG, class KERNEL, class IN_PIXEL, class OUT_PIXEL, class PARAMS_A, class PARAMS_B>
void dense_mvu(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const PARAMS_A& params_a,
               const PARAMS_B& params_b) {
#pragma HLS DATAFLOW
  hls::stream<typename mvu_vector<CONFIG>::type> vectors;
  dense_vector<CONFIG>(in, vectors);
  mvu<CONFIG, KERNEL, 1>(vectors, out, params_a, params_b);
}

}  // namespace fxhls

#endif  // FXHLS_MVU_H_
