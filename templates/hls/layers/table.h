// fxhls layer library: an element-wise non-linear function as a lookup table (a ROM).
//
// A full table has one entry per code of the input type, indexed by the input's raw bits
// (two's complement for a signed type). A truncated table (an input wider than 16 bits,
// fxhls.fixed.table_grid) is indexed by the input's code clamped to [low, high], less low,
// with its drop_bits low bits rounded off (to nearest, ties up). Each entry is the float
// function at its input, quantized to the output type by fxhls and held as its code
// (fxhls.ir.ops.table), so C++ and emulator agree.
#ifndef FXHLS_TABLE_H_
#define FXHLS_TABLE_H_

#include "stream.h"

namespace fxhls {

// The entry input x reads (see above).
template <class CONFIG, class IN_T>
int table_index(const IN_T& x) {
  const ap_uint<CONFIG::in_width> bits = x.range(CONFIG::in_width - 1, 0);
  if (!CONFIG::truncated) return bits;
  typedef ap_int<CONFIG::in_width + 2> wide_t;
  wide_t code = CONFIG::in_signed ? wide_t(ap_int<CONFIG::in_width>(bits)) : wide_t(bits);
  if (code < wide_t(CONFIG::low)) code = CONFIG::low;
  if (code > wide_t(CONFIG::high)) code = CONFIG::high;
  const wide_t half = CONFIG::drop_bits > 0 ? wide_t(1) << (CONFIG::drop_bits - 1) : wide_t(0);
  return (code - wide_t(CONFIG::low) + half) >> CONFIG::drop_bits;
}

// CONFIG: out_t, code_t (an integer type holding out_t's codes); beats, lanes, in_width, out_width
// (the input and output types' bits), entries; truncated, in_signed, low, high, drop_bits.
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL>
void table(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const typename CONFIG::code_t entries[CONFIG::entries]) {
  for (int p = 0; p < CONFIG::beats; p++) {
#pragma HLS PIPELINE II = 1
    IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::lanes; c++) {
      typename CONFIG::out_t value;
      value.range(CONFIG::out_width - 1, 0) = entries[table_index<CONFIG>(x[c])];
      y[c] = value;
    }
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_TABLE_H_
