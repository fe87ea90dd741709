// fxhls layer library: K-hot weights, multiplied by shifts and adds.
//
// A K-hot weight is a sum of at most K signed powers of two; its terms (sign,
// shift) are constants of the generated code, so x * w is K shifted copies of x
// added or subtracted: no multiplier. The shifts happen in term_t, a type the
// generator makes wide enough for every partial sum (an ap_fixed shift keeps its
// operand's width), so the product is exact, as the IR's x * w is.
#ifndef FXHLS_KHOT_H_
#define FXHLS_KHOT_H_

namespace fxhls {

// One term of a K-hot value: sign (+1, -1, or 0 for an unused term) * 2**shift.
struct khot_term {
  signed char sign;
  signed char shift;
};

// x * 2**shift, exactly, in TERM_T.
template <class TERM_T, class X>
TERM_T shifted(X x, int shift) {
#pragma HLS INLINE
  const TERM_T wide = x;
  return shift >= 0 ? TERM_T(wide << shift) : TERM_T(wide >> -shift);
}

// x * w for a K-hot w given by its K terms, exactly, in TERM_T.
template <class TERM_T, int K, class X>
TERM_T khot_product(X x, const khot_term terms[K]) {
#pragma HLS INLINE
  TERM_T product = 0;
  for (int j = 0; j < K; j++) {
    if (terms[j].sign > 0) product += shifted<TERM_T>(x, terms[j].shift);
    if (terms[j].sign < 0) product -= shifted<TERM_T>(x, terms[j].shift);
  }
  return product;
}

// The kernel of a K-hot layer (dense or convolution window) for the folded MVU
// (mvu.h): for every output o, acc_t s = biases[o]; s += x[g * n_in + k] * w[o][k] for
// each k in turn (g = o / group_out, the output's group), each product exact in term_t,
// in the IR's order (exact for a narrowed accumulator too); y[o] = s cast to its type.
//
// CONFIG: in_t, bias_t, accum_t, term_t; n_in (inputs per output), n_out, groups,
// group_out; khot (K, terms per weight).
template <class CONFIG>
struct khot_kernel {
  typedef typename CONFIG::accum_t partial_t;
  typedef khot_term terms_t[CONFIG::n_out][CONFIG::n_in][CONFIG::khot];

  static partial_t start(const typename CONFIG::bias_t biases[CONFIG::n_out], int o) {
#pragma HLS INLINE
    return biases[o];
  }

  // acc plus the products of inputs first .. first + SIMD - 1 of output o, in order.
  template <int SIMD>
  static partial_t accumulate(partial_t acc, const typename CONFIG::in_t x[CONFIG::groups * CONFIG::n_in],
                              const terms_t& terms, int o, int first) {
#pragma HLS INLINE
    const int group_first = (o / CONFIG::group_out) * CONFIG::n_in;
    for (int i = 0; i < SIMD; i++) {
      const int k = first + i;
      acc += khot_product<typename CONFIG::term_t, CONFIG::khot>(x[group_first + k], terms[o][k]);
    }
    return acc;
  }

  template <class OUT_PIXEL>
  static void finish(const typename CONFIG::bias_t[CONFIG::n_out], int o, partial_t acc, OUT_PIXEL& y) {
#pragma HLS INLINE
    y[o] = acc;
  }
};

}  // namespace fxhls

#endif  // FXHLS_KHOT_H_
