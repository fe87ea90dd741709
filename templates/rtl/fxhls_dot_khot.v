// The dot product of one beat with K-hot weights: shifts and additions, no multiplier.
//
// Lanes of `x` and `w` as in fxhls_khot_products (K terms {used, negative, shift} per
// weight). `dot` is the exact sum of the lanes' products, its lsb weighing 2**-(x frac
// bits) times 2**-(the shift that stands for a weight of 1, chosen by the caller).
module fxhls_dot_khot #(
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer X_BINARY = 0,
    parameter integer K = 1,
    parameter integer SHIFT_W = 3,
    parameter integer DOT_W = 24  // more than X_W + 2**SHIFT_W + 2 + $clog2(K) + $clog2(SIMD)
) (
    input  wire [SIMD*X_W-1:0] x,
    input  wire [SIMD*K*(SHIFT_W+2)-1:0] w,
    output wire signed [DOT_W-1:0] dot
);
    localparam integer LANE_W = X_W + 2 + (1 << SHIFT_W) + $clog2(K);
    localparam integer SUM_W = LANE_W + $clog2(SIMD);

    wire [SIMD*LANE_W-1:0] products;
    fxhls_khot_products #(
        .SIMD(SIMD), .X_W(X_W), .X_SIGNED(X_SIGNED), .X_BINARY(X_BINARY), .K(K), .SHIFT_W(SHIFT_W)
    ) lanes (.x(x), .w(w), .products(products));

    wire [SUM_W-1:0] sum;
    fxhls_adder_tree #(.N(SIMD), .W(LANE_W)) tree (.clk(1'b0), .en(1'b0), .terms(products), .sum(sum));
    assign dot = {{(DOT_W - SUM_W){sum[SUM_W-1]}}, sum};
endmodule
