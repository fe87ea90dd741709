// fxhls layer library: 2-D convolution over a pixel stream, with a line buffer.
//
// The input arrives one pixel per stream beat (its in_channels values), rows in
// order, and leaves one output pixel per beat (its out_channels values). The layer
// walks the zero-padded image: a line buffer keeps the last kernel_h - 1 padded
// rows, a window of kernel_h x kernel_w pixels slides one column per step, and at
// every strided window position a kernel (a MAC, conv_mac.h, or a pool's, pool.h)
// turns the window into a pixel. K-hot and binary layers fold as an MVU fed by the
// same window (mvu.h).
//
// CONFIG (a struct of constants and types, written per layer):
//   in_t                              the input values' type
//   in_height, in_width, in_channels  the input image
//   kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w
//   reuse                             initiation interval per padded input pixel
//                                     (the folding: multipliers are shared reuse ways)
#ifndef FXHLS_CONV2D_H_
#define FXHLS_CONV2D_H_

#include "hls_stream.h"

namespace fxhls {

// The geometry of a convolution's sliding window, and the steps that move it. The
// line buffer (the last kernel_h - 1 padded rows) and the window are arrays of the
// caller, conv2d_stream, where their partitioning pragmas belong.
template <class CONFIG>
struct conv_window {
  typedef typename CONFIG::in_t in_t;
  static const int channels = CONFIG::in_channels;
  static const int kernel_h = CONFIG::kernel_h;
  static const int kernel_w = CONFIG::kernel_w;
  static const int padded_h = CONFIG::in_height + 2 * CONFIG::pad_h;
  static const int padded_w = CONFIG::in_width + 2 * CONFIG::pad_w;
  static const int line_rows = kernel_h > 1 ? kernel_h - 1 : 1;
  // Inputs of one output pixel: in_channels * kernel_h * kernel_w.
  static const int taps = channels * kernel_h * kernel_w;

  // Takes the padded image's pixel at (row, col): read from `in` inside the image,
  // zero in the padding; moves the window one column on. Returns true when the
  // window then covers the inputs of an output pixel (a position on the stride grid).
  template <class IN_PIXEL>
  static bool advance(hls::stream<IN_PIXEL>& in, int row, int col, in_t lines[line_rows][padded_w][channels],
                      in_t window[kernel_h][kernel_w][channels]) {
#pragma HLS INLINE
    in_t pixel[channels];
#pragma HLS ARRAY_PARTITION variable = pixel complete
    read_padded(in, row, col, pixel);
    for (int i = 0; i < kernel_h; i++) {
      for (int j = 0; j + 1 < kernel_w; j++) {
        for (int c = 0; c < channels; c++) window[i][j][c] = window[i][j + 1][c];
      }
    }
    for (int c = 0; c < channels; c++) {
      for (int i = 0; i + 1 < kernel_h; i++) window[i][kernel_w - 1][c] = lines[i][col][c];
      window[kernel_h - 1][kernel_w - 1][c] = pixel[c];
      for (int i = 0; i + 2 < kernel_h; i++) lines[i][col][c] = lines[i + 1][col][c];
      if (kernel_h > 1) lines[line_rows - 1][col][c] = pixel[c];
    }
    const int top = row - (kernel_h - 1), left = col - (kernel_w - 1);
    return top >= 0 && left >= 0 && top % CONFIG::stride_h == 0 && left % CONFIG::stride_w == 0;
  }

  // The window's inputs in the order the IR accumulates them:
  // k = (channel * kernel_h + kernel row) * kernel_w + kernel column.
  static void taps_in_order(const in_t window[kernel_h][kernel_w][channels], in_t x[taps]) {
#pragma HLS INLINE
    for (int c = 0; c < channels; c++) {
      for (int i = 0; i < kernel_h; i++) {
        for (int j = 0; j < kernel_w; j++) x[(c * kernel_h + i) * kernel_w + j] = window[i][j][c];
      }
    }
  }

  template <class IN_PIXEL>
  static void read_padded(hls::stream<IN_PIXEL>& in, int row, int col, in_t pixel[channels]) {
#pragma HLS INLINE
    const bool inside = row >= CONFIG::pad_h && row < CONFIG::pad_h + CONFIG::in_height &&
                        col >= CONFIG::pad_w && col < CONFIG::pad_w + CONFIG::in_width;
    if (inside) {
      const IN_PIXEL beat = in.read();
      for (int c = 0; c < channels; c++) pixel[c] = beat[c];
    } else {
      for (int c = 0; c < channels; c++) pixel[c] = 0;
    }
  }
};

// Streams one image through `KERNEL::compute(x, params_a, params_b, y)`, which maps
// a window's inputs x (in IR order) to an output pixel y, at every output position.
template <class CONFIG, class KERNEL, class IN_PIXEL, class OUT_PIXEL, class PARAMS_A, class PARAMS_B>
void conv2d_stream(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const PARAMS_A& params_a,
                   const PARAMS_B& params_b) {
  typedef conv_window<CONFIG> geometry;
  typename CONFIG::in_t lines[geometry::line_rows][geometry::padded_w][geometry::channels];
#pragma HLS ARRAY_PARTITION variable = lines complete dim = 1
#pragma HLS ARRAY_PARTITION variable = lines complete dim = 3
  typename CONFIG::in_t window[CONFIG::kernel_h][CONFIG::kernel_w][geometry::channels];
#pragma HLS ARRAY_PARTITION variable = window complete dim = 0
  for (int row = 0; row < geometry::padded_h; row++) {
    for (int col = 0; col < geometry::padded_w; col++) {
#pragma HLS PIPELINE II = CONFIG::reuse
      if (geometry::advance(in, row, col, lines, window)) {
        typename CONFIG::in_t x[geometry::taps];
#pragma HLS ARRAY_PARTITION variable = x complete
        geometry::taps_in_order(window, x);
        OUT_PIXEL y;
        KERNEL::compute(x, params_a, params_b, y);
        out.write(y);
      }
    }
  }
}

}  // namespace fxhls

#endif  // FXHLS_CONV2D_H_
