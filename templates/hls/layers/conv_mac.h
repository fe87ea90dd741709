// fxhls layer library: the multiply-accumulate kernel of a convolution window
// (usable as a dense layer's too: x is any vector of n_in inputs).
//
// For every output o: acc_t s = biases[o]; for (k) s += weights[o][k] * x[g * n_in + k];
// (g = o / group_out, the output's group: 0 but in a grouped convolution)
// k in the IR's order, so a narrowed (rounding or saturating) accumulator gives
// the emulator's result; the sum is then cast to the output pixel's type. The
// weights are given as their codes (raw bits, a plain integer type).
//
// CONFIG: in_t, weight_t, weight_code_t, bias_t, accum_t; n_in (inputs per output),
// n_out, groups, group_out; multipliers (the most multipliers the kernel may use:
// n_in * n_out / reuse, rounded up).
#ifndef FXHLS_CONV_MAC_H_
#define FXHLS_CONV_MAC_H_

namespace fxhls {

// The value of type T whose code (raw bits, two's complement) is `code`.
template <class T, class CODE>
T from_code(CODE code) {
#pragma HLS INLINE
  T value;
  value.setBits(static_cast<unsigned long long>(code));
  return value;
}

template <class CONFIG>
struct mac_kernel {
  template <class OUT_PIXEL>
  static void compute(const typename CONFIG::in_t x[CONFIG::groups * CONFIG::n_in],
                      const typename CONFIG::weight_code_t weights[CONFIG::n_out][CONFIG::n_in],
                      const typename CONFIG::bias_t biases[CONFIG::n_out], OUT_PIXEL& y) {
#pragma HLS INLINE
#pragma HLS ALLOCATION operation instances = mul limit = CONFIG::multipliers
    typename CONFIG::accum_t acc[CONFIG::n_out];
#pragma HLS ARRAY_PARTITION variable = acc complete
    for (int o = 0; o < CONFIG::n_out; o++) acc[o] = biases[o];
    for (int k = 0; k < CONFIG::n_in; k++) {
      for (int o = 0; o < CONFIG::n_out; o++) {
        acc[o] += from_code<typename CONFIG::weight_t>(weights[o][k]) * x[(o / CONFIG::group_out) * CONFIG::n_in + k];
      }
    }
    for (int o = 0; o < CONFIG::n_out; o++) y[o] = acc[o];
  }
};

}  // namespace fxhls

#endif  // FXHLS_CONV_MAC_H_
