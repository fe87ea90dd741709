// fxhls layer library: pooling over a pixel stream.
//
// Max and average pooling walk the image with the line buffer of a convolution
// (conv2d_stream in conv2d.h, zero padded as a convolution), with a kernel that reduces each
// channel's window: the largest value, or the exact sum times the reciprocal of the
// window size (a constant of the generator's reciprocal type; a power of two is
// exact; the zeros of the padding count, in the maximum and in N). Global average pooling sums each channel over the whole image.
//
// CONFIG (max, average): conv_window's fields (in_t, in_height, in_width,
// in_channels, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, reuse = 1);
// average pooling also sum_t, a type that holds any window sum exactly.
#ifndef FXHLS_POOL_H_
#define FXHLS_POOL_H_

#include "conv2d.h"
#include "hls_stream.h"

namespace fxhls {

// conv2d_stream's kernel for max pooling (it takes no constants).
template <class CONFIG>
struct max_pool_kernel {
  template <class OUT_PIXEL>
  static void compute(const typename CONFIG::in_t x[], int, int, OUT_PIXEL& y) {
#pragma HLS INLINE
    const int taps = CONFIG::kernel_h * CONFIG::kernel_w;
    for (int c = 0; c < CONFIG::in_channels; c++) {
      typename CONFIG::in_t largest = x[c * taps];
      for (int t = 1; t < taps; t++) {
        if (x[c * taps + t] > largest) largest = x[c * taps + t];
      }
      y[c] = largest;
    }
  }
};

// conv2d_stream's kernel for average pooling; its constant is the reciprocal.
template <class CONFIG>
struct average_pool_kernel {
  template <class RECIPROCAL_T, class OUT_PIXEL>
  static void compute(const typename CONFIG::in_t x[], const RECIPROCAL_T& reciprocal, int, OUT_PIXEL& y) {
#pragma HLS INLINE
    const int taps = CONFIG::kernel_h * CONFIG::kernel_w;
    for (int c = 0; c < CONFIG::in_channels; c++) {
      typename CONFIG::sum_t sum = 0;
      for (int t = 0; t < taps; t++) sum += x[c * taps + t];
      y[c] = sum * reciprocal;
    }
  }
};

// The mean of each channel over the BEATS pixels of an image, as one pixel.
// CONFIG: sum_t (holds any sum of the image's values exactly), beats.
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL, class RECIPROCAL_T>
void global_average_pool(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const RECIPROCAL_T& reciprocal) {
  typename CONFIG::sum_t sum[IN_PIXEL::lanes];
#pragma HLS ARRAY_PARTITION variable = sum complete
  for (int c = 0; c < IN_PIXEL::lanes; c++) sum[c] = 0;
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    for (int c = 0; c < IN_PIXEL::lanes; c++) sum[c] += x[c];
  }
  OUT_PIXEL y;
  for (int c = 0; c < IN_PIXEL::lanes; c++) y[c] = sum[c] * reciprocal;
  out.write(y);
}

}  // namespace fxhls

#endif  // FXHLS_POOL_H_
