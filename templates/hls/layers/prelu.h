// fxhls layer library: LeakyRelu and PRelu, x where x >= 0, else x * slope[c].
//
// Both sides are exact C++ values (an ap_fixed product keeps every bit), assigned to the
// output pixel's value type: that assignment is the layer's cast, as the IR applies the
// node's out_type. A K-hot slope multiplies by shifts and adds (khot.h), no multiplier.
#ifndef FXHLS_PRELU_H_
#define FXHLS_PRELU_H_

#include "hls_stream.h"
#include "khot.h"

namespace fxhls {

// CONFIG: slope_t; beats, channels.
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void prelu(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const typename CONFIG::slope_t slope[CONFIG::channels]) {
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::channels; c++) {
      if (x[c] >= 0) {
        y[c] = x[c];
      } else {
        y[c] = x[c] * slope[c];
      }
    }
    out.write(y);
  }
}

// The same with K-hot slopes. CONFIG: term_t; beats, channels, khot (terms per slope).
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void prelu_khot(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const khot_term terms[CONFIG::channels][CONFIG::khot]) {
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::channels; c++) {
      if (x[c] >= 0) {
        y[c] = x[c];
      } else {
        y[c] = khot_product<typename CONFIG::term_t, CONFIG::khot>(x[c], terms[c]);
      }
    }
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_PRELU_H_
