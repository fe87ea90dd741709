// The dot product of one beat: sum over SIMD lanes of x[i] * w[i], exact, with multipliers.
//
// Lane i of `x` is bits [i*X_W +: X_W], an ap_fixed code (two's complement when
// X_SIGNED); with X_BINARY (X_W = 1) a lane is a binarized value, 1 meaning +1 and
// 0 meaning -1. Lane i of `w` is bits [i*W_W +: W_W], a weight code. `dot` is the
// sum of the code products: its lsb weighs 2**-(x frac bits + w frac bits).
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

    reg signed [X_W+1:0] x_lane;  // a lane's value, sign-extended (-1 or +1 when binary)
    reg signed [W_W:0] w_lane;
    reg [SIMD*PRODUCT_W-1:0] products;
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

    wire [SUM_W-1:0] sum;
    fxhls_adder_tree #(.N(SIMD), .W(PRODUCT_W)) lanes (.terms(products), .sum(sum));
    assign dot = {{(DOT_W - SUM_W){sum[SUM_W-1]}}, sum};
endmodule
