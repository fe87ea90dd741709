// One-pass CPU kernels for fxhls.fixed, loaded by fxhls/fixed/native.py.
//
// quantize: C++ `T r = x;` for every element of a float or double array, by the
// same exact floating-point steps as `quantize_values` in quantize.py (scale by a
// power of two, round, bring into range, scale back), fused into one pass over
// memory instead of five. learned_point_backward: the backward pass of QFX's
// learned binary point (quantizer.py) in one pass.
//
// Built with -ffp-contract=off and without -ffast-math: every operation is the
// IEEE one, as in PyTorch. The mode numbers are the positions of the modes in
// ROUNDING_MODES and OVERFLOW_MODES of fxhls/fixed/types.py.

#include <cmath>
#include <cstdint>

namespace {

enum Rounding { RND, RND_ZERO, RND_MIN_INF, RND_INF, RND_CONV, TRN, TRN_ZERO, ROUNDING_MODES };
enum Overflow { SAT, SAT_ZERO, SAT_SYM, WRAP, OVERFLOW_MODES };

// A type's constants, precomputed by the caller in the array's precision.
template <typename Real>
struct Type {
    Real scale;        // 2**frac_bits
    Real lsb;          // 2**-frac_bits
    Real min_code;     // lowest code (already symmetric for AP_SAT_SYM)
    Real max_code;
    Real wrap_bound;   // AP_WRAP: codes are clamped to +-2**(significand-1+width) first
    Real modulus;      // 2**width
    Real inv_modulus;  // 2**-width
    bool is_signed;
};

// min(max(v, low), high), except that NaN passes through, as in torch.clamp. Written
// so that each step is one vector min or max instruction.
template <typename Real>
inline Real clamp(Real v, Real low, Real high) {
    v = low > v ? low : v;
    return high < v ? high : v;
}

// The C++ quantization mode, on a scaled value v. v - nearbyint(v) is exact, and
// is +-0.5 exactly at a tie; nearbyint rounds ties to even (the default FP mode).
template <Rounding mode, typename Real>
inline Real round_code(Real v) {
    if constexpr (mode == TRN) return std::floor(v);
    if constexpr (mode == TRN_ZERO) return std::trunc(v);
    Real code = std::nearbyint(v);
    if constexpr (mode == RND_CONV) return code;
    Real off = v - code;
    if constexpr (mode == RND) return off == Real(0.5) ? code + Real(1) : code;
    if constexpr (mode == RND_MIN_INF) return off == Real(-0.5) ? code - Real(1) : code;
    bool tie = std::fabs(off) == Real(0.5);
    Real half = std::copysign(Real(0.5), v);
    if constexpr (mode == RND_INF) return tie ? v + half : code;
    return tie ? v - half : code;  // RND_ZERO
}

// The C++ overflow mode, on an integer code. Comparisons are false for NaN, which
// passes through as in torch.clamp.
template <Overflow mode, typename Real>
inline Real overflow_code(Real code, const Type<Real>& t) {
    if constexpr (mode == SAT || mode == SAT_SYM) return clamp(code, t.min_code, t.max_code);
    if constexpr (mode == SAT_ZERO) return (code < t.min_code || code > t.max_code) ? Real(0) : code;
    Real wraps = code * t.inv_modulus;  // WRAP: code - 2**W * floor(code / 2**W (+ 1/2 if signed))
    if (t.is_signed) wraps += Real(0.5);
    return code - std::floor(wraps) * t.modulus;
}

template <Rounding rounding, Overflow overflow, bool negative_frac_bits, typename Real>
void quantize_loop(const Real* __restrict x, Real* __restrict y, int64_t n, const Type<Real> t) {
    for (int64_t i = 0; i < n; ++i) {
        Real v = x[i] * t.scale;
        if (negative_frac_bits && v == Real(0)) {
            // Scaling down may underflow a tiny x to zero; it must keep its sign.
            v = x[i] > Real(0) ? Real(0.25) : (x[i] < Real(0) ? Real(-0.25) : v);
        }
        if constexpr (overflow == WRAP) v = clamp(v, -t.wrap_bound, t.wrap_bound);
        Real code = overflow_code<overflow>(round_code<rounding>(v), t);
        y[i] = code * t.lsb + Real(0);  // adding +0 turns -0 into +0, as C++ stores it
    }
}

template <Rounding rounding, Overflow overflow, typename Real>
void quantize_scaled(bool negative_frac_bits, const Real* x, Real* y, int64_t n, const Type<Real>& t) {
    if (negative_frac_bits) return quantize_loop<rounding, overflow, true>(x, y, n, t);
    quantize_loop<rounding, overflow, false>(x, y, n, t);
}

template <Rounding rounding, typename Real>
void quantize_overflow(int overflow, bool negative_frac_bits, const Real* x, Real* y, int64_t n,
                       const Type<Real>& t) {
    switch (overflow) {
        case SAT: return quantize_scaled<rounding, SAT>(negative_frac_bits, x, y, n, t);
        case SAT_ZERO: return quantize_scaled<rounding, SAT_ZERO>(negative_frac_bits, x, y, n, t);
        case SAT_SYM: return quantize_scaled<rounding, SAT_SYM>(negative_frac_bits, x, y, n, t);
        default: return quantize_scaled<rounding, WRAP>(negative_frac_bits, x, y, n, t);
    }
}

template <typename Real>
void quantize(int rounding, int overflow, bool negative_frac_bits, const Real* x, Real* y, int64_t n,
              const Type<Real>& t) {
    switch (rounding) {
        case RND: return quantize_overflow<RND>(overflow, negative_frac_bits, x, y, n, t);
        case RND_ZERO: return quantize_overflow<RND_ZERO>(overflow, negative_frac_bits, x, y, n, t);
        case RND_MIN_INF: return quantize_overflow<RND_MIN_INF>(overflow, negative_frac_bits, x, y, n, t);
        case RND_INF: return quantize_overflow<RND_INF>(overflow, negative_frac_bits, x, y, n, t);
        case RND_CONV: return quantize_overflow<RND_CONV>(overflow, negative_frac_bits, x, y, n, t);
        case TRN: return quantize_overflow<TRN>(overflow, negative_frac_bits, x, y, n, t);
        default: return quantize_overflow<TRN_ZERO>(overflow, negative_frac_bits, x, y, n, t);
    }
}

// Per element: clamped = clamp(x, lowest, highest); inside = (clamped == x);
// grad_x = grad * inside (when wanted); and grad * (y - clamped * inside), added to
// `total`. Returns the number of elements it did: a multiple of `lanes`, the sum kept
// in that many double partial sums so that the loop runs in vector registers.
template <int lanes, bool with_grad_x, typename Real>
int64_t learned_point_backward_lanes(const Real* __restrict x, const Real* __restrict y,
                                     const Real* __restrict grad, Real* __restrict grad_x, int64_t n,
                                     Real lowest, Real highest, double& total) {
    double partial[lanes] = {};
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        for (int k = 0; k < lanes; ++k) {
            Real clamped = clamp(x[i + k], lowest, highest);
            Real inside = clamped == x[i + k] ? Real(1) : Real(0);
            partial[k] += double(grad[i + k]) * double(y[i + k] - clamped * inside);
            if constexpr (with_grad_x) grad_x[i + k] = grad[i + k] * inside;
        }
    }
    for (double sum : partial) total += sum;
    return i;
}

template <bool with_grad_x, typename Real>
double learned_point_backward(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t n,
                              Real lowest, Real highest) {
    double total = 0.0;
    int64_t done = learned_point_backward_lanes<16, with_grad_x>(x, y, grad, grad_x, n, lowest, highest, total);
    learned_point_backward_lanes<1, with_grad_x>(x + done, y + done, grad + done, grad_x + (grad_x ? done : 0),
                                                 n - done, lowest, highest, total);
    return total;
}

template <typename Real>
double learned_point_backward(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t n,
                              double lowest, double highest) {
    if (grad_x) return learned_point_backward<true>(x, y, grad, grad_x, n, Real(lowest), Real(highest));
    return learned_point_backward<false>(x, y, grad, grad_x, n, Real(lowest), Real(highest));
}

template <typename Real>
Type<Real> make_type(double scale, double lsb, double min_code, double max_code, double wrap_bound,
                     double modulus, int is_signed) {
    return {Real(scale), Real(lsb), Real(min_code), Real(max_code), Real(wrap_bound),
            Real(modulus), Real(1.0 / modulus), is_signed != 0};
}

}  // namespace

extern "C" {

#define FXHLS_QUANTIZE(NAME, REAL)                                                                      \
    void NAME(int rounding, int overflow, const REAL* x, REAL* y, int64_t n, double scale, double lsb, \
              double min_code, double max_code, double wrap_bound, double modulus, int is_signed,     \
              int negative_frac_bits) {                                                               \
        quantize(rounding, overflow, negative_frac_bits != 0, x, y, n,                                \
                 make_type<REAL>(scale, lsb, min_code, max_code, wrap_bound, modulus, is_signed));    \
    }

FXHLS_QUANTIZE(fxhls_quantize_f32, float)
FXHLS_QUANTIZE(fxhls_quantize_f64, double)

double fxhls_learned_point_backward_f32(const float* x, const float* y, const float* grad, float* grad_x,
                                        int64_t n, double lowest, double highest) {
    return learned_point_backward<float>(x, y, grad, grad_x, n, lowest, highest);
}

double fxhls_learned_point_backward_f64(const double* x, const double* y, const double* grad,
                                        double* grad_x, int64_t n, double lowest, double highest) {
    return learned_point_backward<double>(x, y, grad, grad_x, n, lowest, highest);
}
}
