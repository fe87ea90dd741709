// fxhls layer library: nearest-neighbour upsampling of an image by integer factors.
//
// Output pixel (h, w) is input pixel (h / scale_h, w / scale_w): each input pixel is
// written scale_w times as it arrives, into a row buffer too, and the row is written
// scale_h - 1 times more from the buffer. One output pixel per clock; values unchanged
// (the assignment casts to the output type, the input's in the IR).
#ifndef FXHLS_UPSAMPLE_H_
#define FXHLS_UPSAMPLE_H_

#include "stream.h"

namespace fxhls {

// CONFIG: height, width (the input image), scale_h, scale_w.
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void upsample(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out) {
  IN_PIXEL row[CONFIG::width];
  for (int h = 0; h < CONFIG::height; h++) {
    for (int r = 0; r < CONFIG::scale_h; r++) {
      for (int w = 0; w < CONFIG::width; w++) {
        for (int s = 0; s < CONFIG::scale_w; s++) {
#pragma HLS PIPELINE II = 1
          if (r == 0 && s == 0) row[w] = in.read();
          OUT_PIXEL y;
          for (int c = 0; c < IN_PIXEL::lanes; c++) y[c] = row[w][c];
          out.write(y);
        }
      }
    }
  }
}

}  // namespace fxhls

#endif  // FXHLS_UPSAMPLE_H_
