// One-pass CPU kernels for fxhls.fixed, loaded by fxhls/fixed/native.py.
//
// quantize: C++ `T r = x;` for every element of a float or double array, by the
// same exact floating-point steps as `quantize_values` in quantize.py (scale by a
// power of two, round, bring into range, scale back), fused into one pass over
// memory instead of five. affine_quantize: the same on x * scale + shift with a
// scale and shift per channel (QFX BatchNorm). Their backward passes for QFX's
// learned binary point (quantizer.py), and per-channel moments, each in one pass.
// max_pool_tiles: QFX max pooling over windows that tile the input, with its backward
// pass (torch's contiguous CPU kernel walks each window in a scalar loop).
//
// Arrays are contiguous, (batch, channels, positions) for the per-channel kernels.
//
// Built with -ffp-contract=off and without -ffast-math: every operation is the
// IEEE one, as in PyTorch. The mode numbers are the positions of the modes in
// ROUNDING_MODES and OVERFLOW_MODES of fxhls/fixed/types.py.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

enum Rounding { RND, RND_ZERO, RND_MIN_INF, RND_INF, RND_CONV, TRN, TRN_ZERO };
enum Overflow { SAT, SAT_ZERO, SAT_SYM, WRAP };

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

// One element, as quantize_values does it.
template <Rounding rounding, Overflow overflow, bool negative_frac_bits, typename Real>
inline Real quantize_value(Real x, const Type<Real>& t) {
    Real v = x * t.scale;
    if (negative_frac_bits && v == Real(0)) {
        // Scaling down may underflow a tiny x to zero; it must keep its sign.
        v = x > Real(0) ? Real(0.25) : (x < Real(0) ? Real(-0.25) : v);
    }
    if constexpr (overflow == WRAP) v = clamp(v, -t.wrap_bound, t.wrap_bound);
    Real code = overflow_code<overflow>(round_code<rounding>(v), t);
    return code * t.lsb + Real(0);  // adding +0 turns -0 into +0, as C++ stores it
}

template <Rounding r, Overflow o, bool n>
struct Modes {
    static constexpr Rounding rounding = r;
    static constexpr Overflow overflow = o;
    static constexpr bool negative_frac_bits = n;
};

// Calls body(Modes<...>{}) with the modes as compile-time constants, so that each
// combination gets its own vectorized loop.
template <Rounding r, Overflow o, typename Body>
void with_scaling(bool negative_frac_bits, Body body) {
    if (negative_frac_bits) return body(Modes<r, o, true>{});
    body(Modes<r, o, false>{});
}

template <Rounding r, typename Body>
void with_overflow(int overflow, bool negative_frac_bits, Body body) {
    switch (overflow) {
        case SAT: return with_scaling<r, SAT>(negative_frac_bits, body);
        case SAT_ZERO: return with_scaling<r, SAT_ZERO>(negative_frac_bits, body);
        case SAT_SYM: return with_scaling<r, SAT_SYM>(negative_frac_bits, body);
        default: return with_scaling<r, WRAP>(negative_frac_bits, body);
    }
}

template <typename Body>
void with_modes(int rounding, int overflow, bool negative_frac_bits, Body body) {
    switch (rounding) {
        case RND: return with_overflow<RND>(overflow, negative_frac_bits, body);
        case RND_ZERO: return with_overflow<RND_ZERO>(overflow, negative_frac_bits, body);
        case RND_MIN_INF: return with_overflow<RND_MIN_INF>(overflow, negative_frac_bits, body);
        case RND_INF: return with_overflow<RND_INF>(overflow, negative_frac_bits, body);
        case RND_CONV: return with_overflow<RND_CONV>(overflow, negative_frac_bits, body);
        case TRN: return with_overflow<TRN>(overflow, negative_frac_bits, body);
        default: return with_overflow<TRN_ZERO>(overflow, negative_frac_bits, body);
    }
}

template <typename Real>
void quantize(int rounding, int overflow, bool negative_frac_bits, const Real* __restrict x,
              Real* __restrict y, int64_t n, const Type<Real> t) {
    with_modes(rounding, overflow, negative_frac_bits, [=](auto modes) {
        using M = decltype(modes);
        for (int64_t i = 0; i < n; ++i)
            y[i] = quantize_value<M::rounding, M::overflow, M::negative_frac_bits>(x[i], t);
    });
}

// y = quantize(x * scale[c] + shift[c]); the affine in Real, multiply then add.
template <typename Real>
void affine_quantize(int rounding, int overflow, bool negative_frac_bits, const Real* __restrict x,
                     Real* __restrict y, int64_t batch, int64_t channels, int64_t positions,
                     const Real* scale, const Real* shift, const Type<Real> t) {
    with_modes(rounding, overflow, negative_frac_bits, [=](auto modes) {
        using M = decltype(modes);
        for (int64_t b = 0; b < batch; ++b) {
            for (int64_t c = 0; c < channels; ++c) {
                const int64_t start = (b * channels + c) * positions;
                const Real a = scale[c], s = shift[c];
                for (int64_t i = start; i < start + positions; ++i)
                    y[i] = quantize_value<M::rounding, M::overflow, M::negative_frac_bits>(x[i] * a + s, t);
            }
        }
    });
}

// The sums one channel's run of elements adds: the learned binary point's
// sum of grad * (y - clamped * inside), and the scale's and shift's gradients.
struct Sums {
    double point = 0, scale = 0, shift = 0;
};

// Per element, with z = x * scale + shift as in the forward pass: clamped = clamp(z,
// lowest, highest), inside = (clamped == z), grad_z = grad * inside; writes grad_x =
// grad_z * scale (when wanted) and adds to `sums`. Does the longest prefix that is a
// multiple of `lanes`, keeping that many double partial sums so that the loop runs in
// vector registers; returns its length.
template <int lanes, bool with_grad_x, typename Real>
int64_t affine_backward_lanes(const Real* __restrict x, const Real* __restrict y, const Real* __restrict grad,
                              Real* __restrict grad_x, int64_t n, Real scale, Real shift, Real lowest,
                              Real highest, Sums& sums) {
    double point[lanes] = {}, scale_sum[lanes] = {}, shift_sum[lanes] = {};
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        for (int k = 0; k < lanes; ++k) {
            Real z = x[i + k] * scale + shift;
            Real clamped = clamp(z, lowest, highest);
            Real inside = clamped == z ? Real(1) : Real(0);
            Real grad_z = grad[i + k] * inside;
            point[k] += double(grad[i + k]) * double(y[i + k] - clamped * inside);
            scale_sum[k] += double(grad_z) * double(x[i + k]);
            shift_sum[k] += double(grad_z);
            if constexpr (with_grad_x) grad_x[i + k] = grad_z * scale;
        }
    }
    for (int k = 0; k < lanes; ++k) {
        sums.point += point[k];
        sums.scale += scale_sum[k];
        sums.shift += shift_sum[k];
    }
    return i;
}

// One channel's run of n elements of affine_backward: adds its scale's and shift's sums
// to grad_scale and grad_shift, returns its binary point's sum.
template <bool with_grad_x, typename Real>
double affine_backward_run(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t n, Real scale,
                           Real shift, Real lowest, Real highest, double& grad_scale, double& grad_shift) {
    Sums sums;
    int64_t done = affine_backward_lanes<16, with_grad_x>(x, y, grad, grad_x, n, scale, shift, lowest, highest, sums);
    affine_backward_lanes<1, with_grad_x>(x + done, y + done, grad + done, with_grad_x ? grad_x + done : grad_x,
                                          n - done, scale, shift, lowest, highest, sums);
    grad_scale += sums.scale;
    grad_shift += sums.shift;
    return sums.point;
}

template <bool with_grad_x, typename Real>
double affine_backward(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t batch,
                       int64_t channels, int64_t positions, const Real* scale, const Real* shift, Real lowest,
                       Real highest, double* grad_scale, double* grad_shift) {
    double point = 0.0;
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
            const int64_t start = (b * channels + c) * positions;
            point += affine_backward_run<with_grad_x>(x + start, y + start, grad + start,
                                                      with_grad_x ? grad_x + start : grad_x, positions, scale[c],
                                                      shift[c], lowest, highest, grad_scale[c], grad_shift[c]);
        }
    }
    return point;
}

template <typename Real>
double affine_backward(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t batch,
                       int64_t channels, int64_t positions, const Real* scale, const Real* shift, double lowest,
                       double highest, double* grad_scale, double* grad_shift) {
    if (grad_x)
        return affine_backward<true>(x, y, grad, grad_x, batch, channels, positions, scale, shift, Real(lowest),
                                     Real(highest), grad_scale, grad_shift);
    return affine_backward<false>(x, y, grad, grad_x, batch, channels, positions, scale, shift, Real(lowest),
                                  Real(highest), grad_scale, grad_shift);
}

// The learned binary point's backward pass on quantize(x), over the longest prefix that
// is a multiple of `lanes` (returning its length): clamped = clamp(x, lowest, highest),
// inside = (clamped == x); writes grad_x = grad * inside (when wanted) and adds
// grad * (y - clamped * inside) of element i to lane_sums[i % lanes], the product in Real
// and the sums in double (converting the product alone, not both factors, takes a
// quarter off a float pass that is bound by its arithmetic). affine_backward with
// scale 1 and shift 0, without the scale's and shift's sums, which it has no use for. In
// place (grad_x the caller's grad, overwritten; grad_in unused), grad is read through
// grad_x: a buffer read and written in one pass costs less than a fresh one written.
template <int lanes, bool with_grad_x, bool in_place, typename Real>
int64_t point_backward_lanes(const Real* __restrict x, const Real* __restrict y, const Real* __restrict grad_in,
                             Real* __restrict grad_x, int64_t n, Real lowest, Real highest, double* lane_sums) {
    const Real* grad = in_place ? grad_x : grad_in;
    double partial[lanes];
    for (int k = 0; k < lanes; ++k) partial[k] = lane_sums[k];
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        for (int k = 0; k < lanes; ++k) {
            Real clamped = clamp(x[i + k], lowest, highest);
            Real inside = clamped == x[i + k] ? Real(1) : Real(0);
            Real g = grad[i + k];
            partial[k] += double(g * (y[i + k] - clamped * inside));
            if constexpr (with_grad_x) grad_x[i + k] = g * inside;
        }
    }
    for (int k = 0; k < lanes; ++k) lane_sums[k] = partial[k];
    return i;
}

// The sum's order, which every pass over one whole array keeps (so that a pass split into
// pieces adds the same numbers in the same order): element i adds into lane i % 16 below
// n - n % 16, into a tail sum after; the lanes are added in order, then the tail.
constexpr int kPointLanes = 16;

template <bool with_grad_x, bool in_place, typename Real>
double learned_point_backward(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t n,
                              Real lowest, Real highest) {
    double lanes[kPointLanes] = {}, tail = 0.0;
    int64_t done =
        point_backward_lanes<kPointLanes, with_grad_x, in_place>(x, y, grad, grad_x, n, lowest, highest, lanes);
    point_backward_lanes<1, with_grad_x, in_place>(x + done, y + done, in_place ? nullptr : grad + done,
                                                   with_grad_x ? grad_x + done : grad_x, n - done, lowest,
                                                   highest, &tail);
    double point = 0.0;
    for (int k = 0; k < kPointLanes; ++k) point += lanes[k];
    return point + tail;
}

template <typename Real>
double learned_point_backward(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t n,
                              double lowest, double highest) {
    if (grad_x == grad)
        return learned_point_backward<true, true, Real>(x, y, nullptr, grad_x, n, Real(lowest), Real(highest));
    if (grad_x) return learned_point_backward<true, false>(x, y, grad, grad_x, n, Real(lowest), Real(highest));
    return learned_point_backward<false, false>(x, y, grad, grad_x, n, Real(lowest), Real(highest));
}

// learned_point_backward over elements [begin, end) of an array of n, its sum's order kept
// in `lanes` and `tail` across calls (see kPointLanes); grad_x points at element `begin`'s.
template <typename Real>
void learned_point_backward_range(const Real* x, const Real* y, const Real* grad, Real* grad_x, int64_t begin,
                                  int64_t end, int64_t n, Real lowest, Real highest, double* lanes, double& tail) {
    const int64_t lane_end = std::min(end, n - n % kPointLanes);
    auto one = [&](int64_t i, double* sum) {
        point_backward_lanes<1, true, false>(x + i, y + i, grad + i, grad_x + (i - begin), 1, lowest, highest, sum);
    };
    int64_t i = begin;
    for (; i < lane_end && i % kPointLanes != 0; ++i) one(i, lanes + i % kPointLanes);
    if (i < lane_end)
        i += point_backward_lanes<kPointLanes, true, false>(x + i, y + i, grad + i, grad_x + (i - begin),
                                                            lane_end - i, lowest, highest, lanes);
    for (; i < lane_end; ++i) one(i, lanes + i % kPointLanes);
    for (; i < end; ++i) one(i, &tail);
}

// A BatchNorm's output quantizer followed by a ReLU's (QFX's fused pair), one sample at a
// time: y1 = quantize(x * scale + shift, t1), y2 = quantize(y1, t2), y2's pass reading the
// sample's y1 back from the cache.
template <typename Real>
void affine_relu_quantize(const int* modes1, const int* modes2, const Real* x, Real* y1, Real* y2, int64_t batch,
                          int64_t channels, int64_t positions, const Real* scale, const Real* shift,
                          const Type<Real> t1, const Type<Real> t2) {
    const int64_t sample = channels * positions;
    for (int64_t b = 0; b < batch; ++b) {
        const int64_t start = b * sample;
        affine_quantize(modes1[0], modes1[1], modes1[2] != 0, x + start, y1 + start, 1, channels, positions, scale,
                        shift, t1);
        quantize(modes2[0], modes2[1], modes2[2] != 0, y1 + start, y2 + start, sample, t2);
    }
}

// Its backward pass, per channel run: the ReLU quantizer's (learned_point_backward of y2 on
// y1, into a run-sized buffer), then the affine's (affine_backward) from it. The sums are
// those of the two passes over the whole arrays: points[0] the affine's, points[1] the ReLU's.
template <bool with_grad_x, typename Real>
void affine_relu_backward(const Real* x, const Real* y1, const Real* y2, const Real* grad, Real* grad_x,
                          int64_t batch, int64_t channels, int64_t positions, const Real* scale, const Real* shift,
                          Real lowest1, Real highest1, Real lowest2, Real highest2, double* grad_scale,
                          double* grad_shift, double* points) {
    std::vector<Real> grad_y1(positions);
    const int64_t n = batch * channels * positions;
    double lanes[kPointLanes] = {}, tail = 0.0, point1 = 0.0;
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
            const int64_t start = (b * channels + c) * positions;
            learned_point_backward_range(y1, y2, grad, grad_y1.data(), start, start + positions, n, lowest2,
                                         highest2, lanes, tail);
            point1 += affine_backward_run<with_grad_x>(x + start, y1 + start, grad_y1.data(),
                                                       with_grad_x ? grad_x + start : grad_x, positions, scale[c],
                                                       shift[c], lowest1, highest1, grad_scale[c], grad_shift[c]);
        }
    }
    double point2 = 0.0;
    for (int k = 0; k < kPointLanes; ++k) point2 += lanes[k];
    points[0] = point1;
    points[1] = point2 + tail;
}

template <typename Real>
void affine_relu_backward(const Real* x, const Real* y1, const Real* y2, const Real* grad, Real* grad_x,
                          int64_t batch, int64_t channels, int64_t positions, const Real* scale, const Real* shift,
                          const double* bounds, double* grad_scale, double* grad_shift, double* points) {
    const Real low1(bounds[0]), high1(bounds[1]), low2(bounds[2]), high2(bounds[3]);
    if (grad_x)
        return affine_relu_backward<true>(x, y1, y2, grad, grad_x, batch, channels, positions, scale, shift, low1,
                                          high1, low2, high2, grad_scale, grad_shift, points);
    affine_relu_backward<false>(x, y1, y2, grad, grad_x, batch, channels, positions, scale, shift, low1, high1,
                                low2, high2, grad_scale, grad_shift, points);
}

// Per channel, the sum of x and of x * x, as double reductions in vector lanes.
template <typename Real>
void channel_sums(const Real* __restrict x, int64_t batch, int64_t channels, int64_t positions, double* sum,
                  double* sum_of_squares) {
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
            const Real* run = x + (b * channels + c) * positions;
            double first = 0, second = 0;
#pragma omp simd reduction(+ : first, second)
            for (int64_t i = 0; i < positions; ++i) {
                first += double(run[i]);
                second += double(run[i]) * double(run[i]);
            }
            sum[c] += first;
            sum_of_squares[c] += second;
        }
    }
}

// Max pooling over windows that tile each (height, width) plane: per window the first
// maximum in row-major window order (a NaN wins, the last NaN of a window the one picked),
// as torch's max_pool2d picks it, and its position in the window. Rows and columns past
// the last whole window are not read. A row of windows at a time, each window position
// compared across the row in vector lanes without branches (random data mispredicts
// half of them: what makes torch's per-window loop slow); positions are kept as Real
// there, so that the lanes are all one width. A window width known at compile time
// (Width > 0: 2 and 3 are built) lets the strided reads be vector shuffles instead of gathers
// (4x faster for 2x2 windows).
template <typename Real, int64_t Width = 0>
void max_pool_tiles(const Real* __restrict x, Real* __restrict y, uint8_t* __restrict picked, int64_t planes,
                    int64_t height, int64_t width, int64_t kernel_height, int64_t kernel_width) {
    if (Width == 0 && (kernel_width == 2 || kernel_width == 3)) {
        (kernel_width == 2 ? max_pool_tiles<Real, 2> : max_pool_tiles<Real, 3>)(
            x, y, picked, planes, height, width, kernel_height, kernel_width);
        return;
    }
    if (Width > 0) kernel_width = Width;
    const int64_t rows = height / kernel_height, columns = width / kernel_width;
    std::vector<Real> positions(columns);
    Real* __restrict position = positions.data();
    for (int64_t plane = 0; plane < planes; ++plane) {
        for (int64_t row = 0; row < rows; ++row) {
            const Real* windows = x + (plane * height + row * kernel_height) * width;
            Real* __restrict best = y + (plane * rows + row) * columns;
            for (int64_t column = 0; column < columns; ++column) {
                best[column] = windows[column * kernel_width];
                position[column] = 0;
            }
            for (int64_t p = 1; p < kernel_height * kernel_width; ++p) {
                const Real* line = windows + (p / kernel_width) * width + p % kernel_width;
                const Real here = Real(p);
#pragma omp simd
                for (int64_t column = 0; column < columns; ++column) {
                    const Real value = line[column * kernel_width];
                    const bool wins = value > best[column] || value != value;
                    best[column] = wins ? value : best[column];
                    position[column] = wins ? here : position[column];
                }
            }
            uint8_t* row_picked = picked + (plane * rows + row) * columns;
            for (int64_t column = 0; column < columns; ++column) row_picked[column] = uint8_t(position[column]);
        }
    }
}

// The gradient of max_pool_tiles: each window's gradient to its picked position, zero
// elsewhere (grad_x is written whole). Width as in max_pool_tiles.
template <typename Real, int64_t Width = 0>
void max_pool_tiles_backward(const Real* __restrict grad, const uint8_t* __restrict picked, Real* __restrict grad_x,
                             int64_t planes, int64_t height, int64_t width, int64_t kernel_height,
                             int64_t kernel_width) {
    if (Width == 0 && (kernel_width == 2 || kernel_width == 3)) {
        (kernel_width == 2 ? max_pool_tiles_backward<Real, 2> : max_pool_tiles_backward<Real, 3>)(
            grad, picked, grad_x, planes, height, width, kernel_height, kernel_width);
        return;
    }
    if (Width > 0) kernel_width = Width;
    const int64_t rows = height / kernel_height, columns = width / kernel_width;
    if (rows * kernel_height != height || columns * kernel_width != width)
        std::fill(grad_x, grad_x + planes * height * width, Real(0));  // the rows and columns no window reads
    std::vector<Real> positions(columns);
    Real* __restrict position = positions.data();
    for (int64_t plane = 0; plane < planes; ++plane) {
        for (int64_t row = 0; row < rows; ++row) {
            Real* windows = grad_x + (plane * height + row * kernel_height) * width;
            const Real* __restrict row_grad = grad + (plane * rows + row) * columns;
            const uint8_t* row_picked = picked + (plane * rows + row) * columns;
            for (int64_t column = 0; column < columns; ++column) position[column] = Real(row_picked[column]);
            for (int64_t p = 0; p < kernel_height * kernel_width; ++p) {
                Real* __restrict line = windows + (p / kernel_width) * width + p % kernel_width;
                const Real here = Real(p);
#pragma omp simd
                for (int64_t column = 0; column < columns; ++column)
                    line[column * kernel_width] = position[column] == here ? row_grad[column] : Real(0);
            }
        }
    }
}

template <typename Real>
Type<Real> make_type(const double* constants, int is_signed) {
    // constants: scale, lsb, min_code, max_code, wrap_bound, modulus
    return {Real(constants[0]), Real(constants[1]), Real(constants[2]), Real(constants[3]),
            Real(constants[4]), Real(constants[5]), Real(1.0 / constants[5]), is_signed != 0};
}

}  // namespace

extern "C" {

void fxhls_quantize_f32(int rounding, int overflow, int negative_frac_bits, int is_signed,
                        const double* constants, const float* x, float* y, int64_t n) {
    quantize(rounding, overflow, negative_frac_bits != 0, x, y, n, make_type<float>(constants, is_signed));
}

void fxhls_quantize_f64(int rounding, int overflow, int negative_frac_bits, int is_signed,
                        const double* constants, const double* x, double* y, int64_t n) {
    quantize(rounding, overflow, negative_frac_bits != 0, x, y, n, make_type<double>(constants, is_signed));
}

void fxhls_affine_quantize_f32(int rounding, int overflow, int negative_frac_bits, int is_signed,
                               const double* constants, const float* x, float* y, int64_t batch,
                               int64_t channels, int64_t positions, const float* scale, const float* shift) {
    affine_quantize(rounding, overflow, negative_frac_bits != 0, x, y, batch, channels, positions, scale, shift,
                    make_type<float>(constants, is_signed));
}

void fxhls_affine_quantize_f64(int rounding, int overflow, int negative_frac_bits, int is_signed,
                               const double* constants, const double* x, double* y, int64_t batch,
                               int64_t channels, int64_t positions, const double* scale, const double* shift) {
    affine_quantize(rounding, overflow, negative_frac_bits != 0, x, y, batch, channels, positions, scale, shift,
                    make_type<double>(constants, is_signed));
}

double fxhls_learned_point_backward_f32(const float* x, const float* y, const float* grad, float* grad_x,
                                        int64_t n, double lowest, double highest) {
    return learned_point_backward(x, y, grad, grad_x, n, lowest, highest);
}

double fxhls_learned_point_backward_f64(const double* x, const double* y, const double* grad,
                                        double* grad_x, int64_t n, double lowest, double highest) {
    return learned_point_backward(x, y, grad, grad_x, n, lowest, highest);
}

double fxhls_affine_backward_f32(const float* x, const float* y, const float* grad, float* grad_x, int64_t batch,
                                 int64_t channels, int64_t positions, const float* scale, const float* shift,
                                 double lowest, double highest, double* grad_scale, double* grad_shift) {
    return affine_backward(x, y, grad, grad_x, batch, channels, positions, scale, shift, lowest, highest,
                           grad_scale, grad_shift);
}

double fxhls_affine_backward_f64(const double* x, const double* y, const double* grad, double* grad_x,
                                 int64_t batch, int64_t channels, int64_t positions, const double* scale,
                                 const double* shift, double lowest, double highest, double* grad_scale,
                                 double* grad_shift) {
    return affine_backward(x, y, grad, grad_x, batch, channels, positions, scale, shift, lowest, highest,
                           grad_scale, grad_shift);
}

void fxhls_channel_sums_f32(const float* x, int64_t batch, int64_t channels, int64_t positions, double* sum,
                            double* sum_of_squares) {
    channel_sums(x, batch, channels, positions, sum, sum_of_squares);
}

void fxhls_channel_sums_f64(const double* x, int64_t batch, int64_t channels, int64_t positions, double* sum,
                            double* sum_of_squares) {
    channel_sums(x, batch, channels, positions, sum, sum_of_squares);
}

void fxhls_affine_relu_quantize_f32(const int* modes1, const double* constants1, const int* modes2,
                                    const double* constants2, const float* x, float* y1, float* y2, int64_t batch,
                                    int64_t channels, int64_t positions, const float* scale, const float* shift) {
    affine_relu_quantize(modes1, modes2, x, y1, y2, batch, channels, positions, scale, shift,
                         make_type<float>(constants1, modes1[3]), make_type<float>(constants2, modes2[3]));
}

void fxhls_affine_relu_quantize_f64(const int* modes1, const double* constants1, const int* modes2,
                                    const double* constants2, const double* x, double* y1, double* y2,
                                    int64_t batch, int64_t channels, int64_t positions, const double* scale,
                                    const double* shift) {
    affine_relu_quantize(modes1, modes2, x, y1, y2, batch, channels, positions, scale, shift,
                         make_type<double>(constants1, modes1[3]), make_type<double>(constants2, modes2[3]));
}

void fxhls_affine_relu_backward_f32(const float* x, const float* y1, const float* y2, const float* grad,
                                    float* grad_x, int64_t batch, int64_t channels, int64_t positions,
                                    const float* scale, const float* shift, const double* bounds,
                                    double* grad_scale, double* grad_shift, double* points) {
    affine_relu_backward(x, y1, y2, grad, grad_x, batch, channels, positions, scale, shift, bounds, grad_scale,
                         grad_shift, points);
}

void fxhls_affine_relu_backward_f64(const double* x, const double* y1, const double* y2, const double* grad,
                                    double* grad_x, int64_t batch, int64_t channels, int64_t positions,
                                    const double* scale, const double* shift, const double* bounds,
                                    double* grad_scale, double* grad_shift, double* points) {
    affine_relu_backward(x, y1, y2, grad, grad_x, batch, channels, positions, scale, shift, bounds, grad_scale,
                         grad_shift, points);
}

void fxhls_max_pool_tiles_f32(const float* x, float* y, uint8_t* picked, int64_t planes, int64_t height,
                              int64_t width, int64_t kernel_height, int64_t kernel_width) {
    max_pool_tiles(x, y, picked, planes, height, width, kernel_height, kernel_width);
}

void fxhls_max_pool_tiles_f64(const double* x, double* y, uint8_t* picked, int64_t planes, int64_t height,
                              int64_t width, int64_t kernel_height, int64_t kernel_width) {
    max_pool_tiles(x, y, picked, planes, height, width, kernel_height, kernel_width);
}

void fxhls_max_pool_tiles_backward_f32(const float* grad, const uint8_t* picked, float* grad_x, int64_t planes,
                                       int64_t height, int64_t width, int64_t kernel_height,
                                       int64_t kernel_width) {
    max_pool_tiles_backward(grad, picked, grad_x, planes, height, width, kernel_height, kernel_width);
}

void fxhls_max_pool_tiles_backward_f64(const double* grad, const uint8_t* picked, double* grad_x, int64_t planes,
                                       int64_t height, int64_t width, int64_t kernel_height,
                                       int64_t kernel_width) {
    max_pool_tiles_backward(grad, picked, grad_x, planes, height, width, kernel_height, kernel_width);
}

}  // extern "C"
