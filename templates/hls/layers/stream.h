// fxhls layer library: the streams between dataflow stages, and the stages that
// only move values (no arithmetic).
//
// Between stages a tensor travels pixel by pixel: an image (C, H, W) as H*W beats
// of C values, rows in order; a vector as one beat. On the AXI-Stream side it
// travels as 64-bit words: each value's code (its raw bits) in a lane of LANE bits
// (8, 16 or 32; sign-extended for signed types), 64 / LANE lanes per word, lane 0
// in the low bits; a sample starts on a fresh word, its last word padded with zeros.
#ifndef FXHLS_STREAM_H_
#define FXHLS_STREAM_H_

#include "ap_int.h"
#include "hls_stream.h"

#if __has_include(<ap_axi_sdata.h>)
#include <ap_axi_sdata.h>
#else
// Vitis HLS ships ap_axi_sdata.h; the ap_types copy in the hls4ml wheel (used for C
// simulation with g++) does not. This minimal stand-in has the fields fxhls uses.
template <int D, int U, int TI, int TD>
struct ap_axiu {
  ap_uint<D> data;
  ap_uint<(D + 7) / 8> keep;
  ap_uint<(D + 7) / 8> strb;
  ap_uint<1> last;
};
#endif

namespace fxhls {

typedef ap_axiu<64, 0, 0, 0> axis_word;
static const int word_bits = 64;

// One beat of a stream: N values of type T.
template <class T, int N>
struct pixel {
  typedef T value_t;
  static const int lanes = N;
  T data[N];
  T& operator[](int i) { return data[i]; }
  const T& operator[](int i) const { return data[i]; }
};

// Words to beats: reads the words of one sample, writes its BEATS beats, and passes
// on whether its last word carried TLAST. CODE_T is ap_int<W> or ap_uint<W>, W the
// width of the value type: the value's bits are the low W bits of its lane.
template <int LANE, int BEATS, class CODE_T, class PIXEL>
void words_to_pixels(hls::stream<axis_word>& in, hls::stream<PIXEL>& out, hls::stream<bool>& last) {
  const int per_word = word_bits / LANE;
  const int values = BEATS * PIXEL::lanes;
  ap_uint<word_bits> word = 0;
  bool tlast = false;
  PIXEL beat;
  for (int i = 0; i < values; i++) {
#pragma HLS PIPELINE II = 1
    if (i % per_word == 0) {
      const axis_word w = in.read();
      word = w.data;
      tlast = w.last;
    }
    const CODE_T code = word.range(CODE_T::width - 1, 0);
    beat[i % PIXEL::lanes].range() = code;
    word >>= LANE;
    if (i % PIXEL::lanes == PIXEL::lanes - 1) out.write(beat);
  }
  last.write(tlast);
}

// Beats to words: reads the BEATS beats of one sample and writes its words; the last
// word carries TLAST when the sample's last input word did.
template <int LANE, int BEATS, class CODE_T, class PIXEL>
void pixels_to_words(hls::stream<PIXEL>& in, hls::stream<axis_word>& out, hls::stream<bool>& last) {
  const int per_word = word_bits / LANE;
  const int values = BEATS * PIXEL::lanes;
  const int in_last_word = (values - 1) % per_word + 1;  // values in the sample's last word
  ap_uint<word_bits> word = 0;
  PIXEL beat;
  for (int i = 0; i < values; i++) {
#pragma HLS PIPELINE II = 1
    if (i % PIXEL::lanes == 0) beat = in.read();
    CODE_T code;
    code.range() = beat[i % PIXEL::lanes].range();
    const ap_uint<LANE> lane = ap_int<LANE>(code);  // sign- or zero-extended by CODE_T
    word = (word >> LANE) | (ap_uint<word_bits>(lane) << (word_bits - LANE));
    const bool final = i == values - 1;
    if (i % per_word == per_word - 1 || final) {
      axis_word w;
      w.data = final ? ap_uint<word_bits>(word >> ((per_word - in_last_word) * LANE)) : word;
      w.keep = -1;
      w.strb = -1;
      w.last = final ? last.read() : false;
      out.write(w);
      word = 0;
    }
  }
}

// The same values in beats of another size (a reshape that keeps the stream order).
template <int VALUES, class IN_PIXEL, class OUT_PIXEL>
void regroup(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out) {
  IN_PIXEL x;
  OUT_PIXEL y;
  for (int i = 0; i < VALUES; i++) {
#pragma HLS PIPELINE II = 1
    if (i % IN_PIXEL::lanes == 0) x = in.read();
    y[i % OUT_PIXEL::lanes] = x[i % IN_PIXEL::lanes];
    if (i % OUT_PIXEL::lanes == OUT_PIXEL::lanes - 1) out.write(y);
  }
}

// An image of BEATS pixels as one beat holding the vector in ONNX Flatten order:
// value c of pixel p goes to position c * BEATS + p.
template <int BEATS, class IN_PIXEL, class OUT_PIXEL>
void flatten(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out) {
  OUT_PIXEL y;
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    for (int c = 0; c < IN_PIXEL::lanes; c++) y[c * BEATS + p] = x[c];
  }
  out.write(y);
}

// Two streams joined beat by beat along the channels (a Concat on the channel axis):
// each output beat holds a beat of in_a, then one of in_b, each value converted to
// the output's type, which holds every value of both exactly.
template <int BEATS, class A_PIXEL, class B_PIXEL, class OUT_PIXEL>
void concat(hls::stream<A_PIXEL>& in_a, hls::stream<B_PIXEL>& in_b, hls::stream<OUT_PIXEL>& out) {
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const A_PIXEL a = in_a.read();
    const B_PIXEL b = in_b.read();
    OUT_PIXEL y;
    for (int c = 0; c < A_PIXEL::lanes; c++) y[c] = a[c];
    for (int c = 0; c < B_PIXEL::lanes; c++) y[A_PIXEL::lanes + c] = b[c];
    out.write(y);
  }
}

// Two copies of a stream (a tensor read by two stages, e.g. a residual shortcut).
template <int BEATS, class PIXEL>
void fork(hls::stream<PIXEL>& in, hls::stream<PIXEL>& out_a, hls::stream<PIXEL>& out_b) {
  for (int p = 0; p < BEATS; p++) {
#pragma HLS PIPELINE II = 1
    const PIXEL x = in.read();
    out_a.write(x);
    out_b.write(x);
  }
}

}  // namespace fxhls

#endif  // FXHLS_STREAM_H_
