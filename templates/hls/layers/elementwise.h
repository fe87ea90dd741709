// fxhls layer library: stages that map each pixel to a pixel, channel by channel,
// one pixel per clock with every channel in parallel.
//
// Each output value is the exact C++ result of its expression, assigned to the
// output pixel's value type: that assignment is the layer's cast (its rounding and
// overflow modes), as the IR applies the node's out_type.
#ifndef FXHLS_ELEMENTWISE_H_
#define FXHLS_ELEMENTWISE_H_

#include "hls_stream.h"
#include "khot.h"

namespace fxhls {

// y = x > 0 ? x : 0
template <int BEATS, class IN_PIXEL, class OUT_PIXEL>
void relu(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out) {
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < IN_PIXEL::lanes; c++) {
      if (x[c] > 0) {
        y[c] = x[c];
      } else {
        y[c] = 0;
      }
    }
    out.write(y);
  }
}

// y = x >= 0 ? +1 : -1
template <int BEATS, class IN_PIXEL, class OUT_PIXEL>
void sign(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out) {
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < IN_PIXEL::lanes; c++) y[c] = x[c] >= 0 ? 1 : -1;
    out.write(y);
  }
}

// y = x, cast to the output type
template <int BEATS, class IN_PIXEL, class OUT_PIXEL>
void cast(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out) {
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < IN_PIXEL::lanes; c++) y[c] = x[c];
    out.write(y);
  }
}

// y = a + b (a residual add)
template <int BEATS, class A_PIXEL, class B_PIXEL, class OUT_PIXEL>
void add(hls::stream<A_PIXEL>& in_a, hls::stream<B_PIXEL>& in_b, hls::stream<OUT_PIXEL>& out) {
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const A_PIXEL a = in_a.read();
    const B_PIXEL b = in_b.read();
    OUT_PIXEL y;
    for (int c = 0; c < A_PIXEL::lanes; c++) y[c] = a[c] + b[c];
    out.write(y);
  }
}

// y = x * scale[c] + shift[c] per channel c (a folded BatchNorm), exact until the cast.
// CONFIG: scale_t, shift_t; beats, channels.
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void affine(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const typename CONFIG::scale_t scale[CONFIG::channels],
            const typename CONFIG::shift_t shift[CONFIG::channels]) {
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::channels; c++) y[c] = x[c] * scale[c] + shift[c];
    out.write(y);
  }
}

// The same with a K-hot scale: x * scale[c] by shifts and adds (khot.h), no multiplier.
// CONFIG: term_t, shift_t; beats, channels, khot (terms per scale).
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void affine_khot(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out,
                 const khot_term terms[CONFIG::channels][CONFIG::khot], const typename CONFIG::shift_t shift[CONFIG::channels]) {
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::channels; c++) {
      y[c] = khot_product<typename CONFIG::term_t, CONFIG::khot>(x[c], terms[c]) + shift[c];
    }
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_ELEMENTWISE_H_
