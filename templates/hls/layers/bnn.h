// fxhls layer library: binary (BNN) layers.
//
// Weights are -1/+1, stored as one bit each (1 = +1). With binary inputs
// (ap_fixed<2,2> holding -1/+1; 0 only in a convolution's zero padding) the sum of
// products is an XNOR and popcounts: sum = 2 * popcount(xnor) - taps.
// With fixed-point inputs it is a chain of additions and subtractions. Either way
// the sum is exact, and an output stage turns it into the output value:
//   threshold_stage  the folded BatchNorm + Sign: +1 where sum >= threshold
//                    (direction +1) or sum <= threshold (direction -1), else -1;
//   bias_stage       acc_t s = bias + sum, then cast to the output type.
#ifndef FXHLS_BNN_H_
#define FXHLS_BNN_H_

#include "ap_int.h"
#include "hls_stream.h"

namespace fxhls {

template <class T>
struct threshold_stage {
  T threshold;
  signed char direction;
};

template <class BIAS_T>
struct bias_stage {
  BIAS_T bias;
};

template <class ACC_T, class SUM_T, class T>
ap_int<2> stage_output(const threshold_stage<T>& stage, SUM_T sum) {
#pragma HLS INLINE
  const bool plus = stage.direction > 0 ? sum >= stage.threshold : sum <= stage.threshold;
  return plus ? 1 : -1;
}

template <class ACC_T, class SUM_T, class BIAS_T>
ACC_T stage_output(const bias_stage<BIAS_T>& stage, SUM_T sum) {
#pragma HLS INLINE
  ACC_T acc = stage.bias;
  acc += sum;
  return acc;
}

// The number of ones among the N bits.
template <int N>
int popcount(const ap_uint<N>& bits) {
#pragma HLS INLINE
  int count = 0;
  for (int k = 0; k < N; k++) count += bits[k];
  return count;
}

// sum_k w[k] * x[k] for binary x (-1, +1, or 0 in padding): 2 * popcount(xnor) - taps.
template <class SUM_T, int N, class IN_T>
SUM_T xnor_popcount_sum(const IN_T x[N], const bool w[N]) {
#pragma HLS INLINE
  ap_uint<N> same, taps;
  for (int k = 0; k < N; k++) {
    same[k] = (x[k] > 0) == w[k];  // XNOR of the sign bits
    taps[k] = x[k] != 0;
  }
  return SUM_T(2 * popcount<N>(same & taps) - popcount<N>(taps));
}

// sum_k w[k] * x[k] for fixed-point x: add where w is +1, subtract where -1.
template <class SUM_T, int N, class IN_T>
SUM_T signed_sum(const IN_T x[N], const bool w[N]) {
#pragma HLS INLINE
  SUM_T sum = 0;
  for (int k = 0; k < N; k++) sum = w[k] ? SUM_T(sum + x[k]) : SUM_T(sum - x[k]);
  return sum;
}

// The kernel of a binary layer (dense or convolution window) for the folded MVU
// (mvu.h): the exact sum of products of output o over the inputs of its group,
// x + (o / group_out) * n_in, SIMD inputs a step, then its output stage.
// CONFIG: in_t, sum_t (exact for the sum of products), accum_t (of bias_stage);
// n_in, n_out, groups, group_out; binary_input (inputs are -1/+1).
template <class CONFIG>
struct bnn_kernel {
  typedef typename CONFIG::sum_t partial_t;
  typedef bool weights_t[CONFIG::n_out][CONFIG::n_in];

  template <class STAGE>
  static partial_t start(const STAGE[CONFIG::n_out], int) {
#pragma HLS INLINE
    return 0;
  }

  // acc plus the sum of products of inputs first .. first + SIMD - 1 of output o.
  template <int SIMD>
  static partial_t accumulate(partial_t acc, const typename CONFIG::in_t x[CONFIG::groups * CONFIG::n_in],
                              const weights_t& weights, int o, int first) {
#pragma HLS INLINE
    const typename CONFIG::in_t* inputs = x + (o / CONFIG::group_out) * CONFIG::n_in + first;
    const bool* signs = weights[o] + first;
    if (CONFIG::binary_input) return acc + xnor_popcount_sum<partial_t, SIMD>(inputs, signs);
    return acc + signed_sum<partial_t, SIMD>(inputs, signs);
  }

  template <class STAGE, class OUT_PIXEL>
  static void finish(const STAGE stages[CONFIG::n_out], int o, partial_t acc, OUT_PIXEL& y) {
#pragma HLS INLINE
    y[o] = stage_output<typename CONFIG::accum_t>(stages[o], acc);
  }
};

// A Threshold on its own (where no binary layer computes it): per pixel, each
// channel's value against its threshold_stage. CONFIG: channels, pixels, accum_t (the
// input values' type).
template <class CONFIG, class IN_PIXEL, class OUT_PIXEL, class STAGE>
void threshold_stream(hls::stream<IN_PIXEL>& in, hls::stream<OUT_PIXEL>& out, const STAGE stages[CONFIG::channels]) {
  for (int p = 0; p < CONFIG::pixels; p++) {
#pragma HLS PIPELINE II = 1
    const IN_PIXEL x = in.read();
    OUT_PIXEL y;
    for (int c = 0; c < CONFIG::channels; c++) y[c] = stage_output<typename CONFIG::accum_t>(stages[c], x[c]);
    out.write(y);
  }
}

}  // namespace fxhls

#endif  // FXHLS_BNN_H_
