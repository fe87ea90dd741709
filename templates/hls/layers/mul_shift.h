// fxhls layer library: MulShift, the requantization of a float-scaled layer by one
// multiply, an add and a shift per channel.
//
// Per pixel, each channel's output code is clamp(round((x * multiplier + bias) / 2^shift),
// low, high), x the input's code (its raw bits as an integer): the sum is exact in sum_t,
// read as a fixed-point value with `shift` fractional bits (scaled_t), and the ap_fixed
// cast to quotient_t rounds it with the layer's rounding mode. Then, where x lies in one
// of the channel's exception ranges [first, last], the code takes its correction (+1 or
// -1; padding ranges are empty). fxhls derives the constants from the model's float32
// arithmetic and proves them equal to it.
#ifndef FXHLS_MUL_SHIFT_H_
#define FXHLS_MUL_SHIFT_H_

#include "stream.h"

namespace fxhls {

// CONFIG: channels, pixels, exceptions (ranges per channel); x_code_t (an integer type of the input's bits), multiplier_t,
// sum_t, scaled_t (sum_t's bits with `shift` fractional bits), quotient_t (an integer
// ap_fixed with the rounding mode).
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void mul_shift_stream(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out,
                      const typename CONFIG::multiplier_t multipliers[CONFIG::channels],
                      const typename CONFIG::sum_t biases[CONFIG::channels],
                      const typename CONFIG::quotient_t lows[CONFIG::channels],
                      const typename CONFIG::quotient_t highs[CONFIG::channels],
                      const typename CONFIG::x_code_t firsts[CONFIG::channels][CONFIG::exception_slots],
                      const typename CONFIG::x_code_t lasts[CONFIG::channels][CONFIG::exception_slots],
                      const ap_int<2> corrections[CONFIG::channels][CONFIG::exception_slots]) {
  for (int p = 0; p < CONFIG::pixels; p++) {
#pragma HLS PIPELINE II = 1
    IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::channels; c++) {
      typename CONFIG::x_code_t code;
      code.range() = x[c].range();
      const typename CONFIG::sum_t sum = code * multipliers[c] + biases[c];
      typename CONFIG::scaled_t scaled;
      scaled.range() = sum.range();
      typename CONFIG::quotient_t quotient = scaled;
      if (quotient < lows[c]) quotient = lows[c];
      if (quotient > highs[c]) quotient = highs[c];
      for (int k = 0; k < CONFIG::exceptions; k++) {
        if (code >= firsts[c][k] && code <= lasts[c][k]) quotient += corrections[c][k];
      }
      y[c] = quotient;
    }
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_MUL_SHIFT_H_
