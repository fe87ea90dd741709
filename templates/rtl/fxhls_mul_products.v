// The products of one beat's lanes: x[i] * w[i], exact, with multipliers.
//
// Lane i of `x` is bits [i*X_W +: X_W], an ap_fixed code (two's complement when
// X_SIGNED); with X_BINARY (X_W = 1) a lane is a binarized value, 1 meaning +1 and
// 0 meaning -1. Lane i of `w` is bits [i*W_W +: W_W], a weight code. Lane i of
// `products` (PRODUCT_W bits, two's complement) is the code product: its lsb weighs
// 2**-(x frac bits + w frac bits).
module fxhls_mul_products #(
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer X_BINARY = 0,
    parameter integer W_W = 8,
    parameter integer W_SIGNED = 1,
    // derived: a product of X_W + 2 and W_W + 1 signed bits
    parameter integer PRODUCT_W = X_W + W_W + 3
) (
    input  wire [SIMD*X_W-1:0] x,
    input  wire [SIMD*W_W-1:0] w,
    output reg  [SIMD*PRODUCT_W-1:0] products
);
    reg signed [X_W+1:0] x_lane;  // a lane's value, sign-extended (-1 or +1 when binary)
    reg signed [W_W:0] w_lane;
    integer i;

    always @* begin
        for (i = 0; i < SIMD; i = i + 1) begin
            if (X_BINARY != 0)
                x_lane = {{(X_W + 1){~x[i]}}, 1'b1};
            else
                x_lane = {{2{X_SIGNED != 0 && x[i*X_W+X_W-1]}}, x[i*X_W +: X_W]};
            w_lane = {W_SIGNED != 0 && w[i*W_W+W_W-1], w[i*W_W +: W_W]};
            products[i*PRODUCT_W +: PRODUCT_W] = x_lane * w_lane;
        end
    end
endmodule
