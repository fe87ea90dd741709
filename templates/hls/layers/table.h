// fxhls layer library: an element-wise non-linear function as a lookup table (a ROM).
//
// The table has one entry per code of the input type, indexed by the input's raw bits
// (two's complement for a signed type): each entry is the float function of that input,
// quantized to the output type by fxhls and held as its code (fxhls.ir.ops.table), so C++ and emulator agree.
#ifndef FXHLS_TABLE_H_
#define FXHLS_TABLE_H_

#include "stream.h"

namespace fxhls {

// CONFIG: out_t, code_t (an integer type holding out_t's codes); beats, lanes, in_width, out_width
// (the input and output types' bits), entries (2^in_width).
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void table(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const typename CONFIG::code_t entries[CONFIG::entries]) {
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::lanes; c++) {
      const ap_uint<CONFIG::in_width> index = x[c].range(CONFIG::in_width - 1, 0);
      typename CONFIG::out_t value;
      value.range(CONFIG::out_width - 1, 0) = entries[index];
      y[c] = value;
    }
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_TABLE_H_
