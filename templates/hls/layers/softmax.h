// fxhls layer library: softmax over each pixel's channels (a vector: its values), and the
// index of the largest value (ArgMax).
//
// Softmax, one pixel per clock (fxhls.ir.ops.softmax says the same in Python):
//   m = the largest x[c]; k = m - x[c] (exact: the input's lsb, 0 .. 2^W - 1 codes);
//   e[c] = exp table entry min(k, entries - 1)  (exp(-k * lsb) quantized to exp_t by fxhls);
//   s = the exact sum of the e[c], cast to sum_t;
//   r = reciprocal table entry s - sum_lowest   (1/s quantized to reciprocal_t by fxhls);
//   y[c] = e[c] * r, exact, cast to the output type.
// The tables hold the codes of exp_t and reciprocal_t as plain integers.
#ifndef FXHLS_SOFTMAX_H_
#define FXHLS_SOFTMAX_H_

#include "stream.h"

namespace fxhls {

// CONFIG: diff_t (ap_ufixed<W, I> of the input's W, I: holds m - x exactly), exp_t,
// exp_code_t, exact_sum_t (holds any sum of the e[c]), sum_t, reciprocal_t, reciprocal_code_t;
// beats, classes, in_width, exp_width, sum_width, reciprocal_width, exp_entries,
// reciprocal_entries, sum_lowest.
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void softmax(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out,
             const typename CONFIG::exp_code_t exp_entries[CONFIG::exp_entries],
             const typename CONFIG::reciprocal_code_t reciprocal_entries[CONFIG::reciprocal_entries]) {
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    typename IN_PIXEL::value_t largest = x[0];
    for (int c = 1; c < CONFIG::classes; c++) {
      if (x[c] > largest) largest = x[c];
    }
    typename CONFIG::exp_t e[CONFIG::classes];
    typename CONFIG::exact_sum_t total = 0;
    for (int c = 0; c < CONFIG::classes; c++) {
      const typename CONFIG::diff_t difference = largest - x[c];
      ap_uint<CONFIG::in_width> k = difference.range(CONFIG::in_width - 1, 0);
      if (k > CONFIG::exp_entries - 1) k = CONFIG::exp_entries - 1;
      e[c].range(CONFIG::exp_width - 1, 0) = exp_entries[k];
      total += e[c];
    }
    const typename CONFIG::sum_t s = total;
    const ap_uint<CONFIG::sum_width> code = s.range(CONFIG::sum_width - 1, 0);
    typename CONFIG::reciprocal_t r;
    r.range(CONFIG::reciprocal_width - 1, 0) = reciprocal_entries[code - CONFIG::sum_lowest];
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::classes; c++) y[c] = e[c] * r;
    out.write(y);
  }
}

// y = the index of the largest x[c] (the first, on ties), one pixel per clock.
template <int BEATS, class IN_PIXEL, class OUT_PIXEL>
void argmax(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out) {
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    typename IN_PIXEL::value_t largest = x[0];
    int index = 0;
    for (int c = 1; c < IN_PIXEL::lanes; c++) {
      if (x[c] > largest) {
        largest = x[c];
        index = c;
      }
    }
    OUT_PIXEL y;
    y[0] = index;
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_SOFTMAX_H_
