// The dot product of one beat: sum over SIMD lanes of x[i] * w[i], exact, with multipliers.
//
// Lanes of `x` and `w` as in fxhls_mul_products. `dot` is the sum of the code products:
// its lsb weighs 2**-(x frac bits + w frac bits).
module fxhls_dot_mul #(
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer X_BINARY = 0,
    parameter integer W_W = 8,
    parameter integer W_SIGNED = 1,
    parameter integer DOT_W = 24  // more than X_W + W_W + 3 + $clog2(SIMD)
) (
    input  wire [SIMD*X_W-1:0] x,
    input  wire [SIMD*W_W-1:0] w,
    output wire signed [DOT_W-1:0] dot
);
    localparam integer PRODUCT_W = X_W + W_W + 3;
    localparam integer SUM_W = PRODUCT_W + $clog2(SIMD);

    wire [SIMD*PRODUCT_W-1:0] products;
    fxhls_mul_products #(
        .SIMD(SIMD), .X_W(X_W), .X_SIGNED(X_SIGNED), .X_BINARY(X_BINARY), .W_W(W_W), .W_SIGNED(W_SIGNED)
    ) lanes (.x(x), .w(w), .products(products));

    wire [SUM_W-1:0] sum;
    fxhls_adder_tree #(.N(SIMD), .W(PRODUCT_W)) tree (.clk(1'b0), .en(1'b0), .terms(products), .sum(sum));
    assign dot = {{(DOT_W - SUM_W){sum[SUM_W-1]}}, sum};
endmodule
