// fxhls layer library: MultiThreshold, the requantization of a float-scaled layer.
//
// Per pixel, each channel's output code is CONFIG::base plus the number of its
// thresholds the value reaches: x >= t where the channel's direction is +1, x <= t
// where it is -1. The thresholds are exact values of the input's grid (fxhls derives
// them from the model's float32 arithmetic), so the comparisons are exact.
#ifndef FXHLS_MULTITHRESHOLD_H_
#define FXHLS_MULTITHRESHOLD_H_

#include "stream.h"

namespace fxhls {

// CONFIG: channels, pixels, levels (thresholds per channel), base, threshold_t.
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void multithreshold_stream(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out,
                           const typename CONFIG::threshold_t thresholds[CONFIG::channels][CONFIG::levels],
                           const signed char directions[CONFIG::channels]) {
  for (int p = 0; p < CONFIG::pixels; p++) {
#pragma HLS PIPELINE II = 1
    IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::channels; c++) {
      int reached = 0;
      for (int k = 0; k < CONFIG::levels; k++) {
        const bool counts = directions[c] > 0 ? x[c] >= thresholds[c][k] : x[c] <= thresholds[c][k];
        reached += counts ? 1 : 0;
      }
      y[c] = CONFIG::base + reached;
    }
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_MULTITHRESHOLD_H_
