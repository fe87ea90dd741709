// The products of one beat's lanes with K-hot weights: shifts and additions, no multiplier.
//
// A K-hot weight is a sum of at most K signed powers of two. Lane i of `w` holds its
// K terms, term k at bits [(i*K+k)*TERM_W +: TERM_W] as {used, negative, shift}
// (shift: SHIFT_W bits): the term adds (or subtracts) x << shift. `x` lanes are as in
// fxhls_dot_mul. Lane i of `products` (LANE_W bits, two's complement) is the exact
// product, its lsb weighing 2**-(x frac bits) times 2**-(the shift that stands for a
// weight of 1, chosen by the caller).
module fxhls_khot_products #(
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer X_BINARY = 0,
    parameter integer K = 1,
    parameter integer SHIFT_W = 3,
    // derived: a lane's product, x (X_W + 1 bits signed) shifted by up to 2**SHIFT_W - 1, K of them
    parameter integer LANE_W = X_W + 2 + (1 << SHIFT_W) + $clog2(K)
) (
    input  wire [SIMD*X_W-1:0] x,
    input  wire [SIMD*K*(SHIFT_W+2)-1:0] w,
    output reg  [SIMD*LANE_W-1:0] products
);
    localparam integer TERM_W = SHIFT_W + 2;

    // A lane's value in X_W + 2 bits (-1 or +1 when binary) holds its negation too, so
    // each term shifts one of the two and the lane needs one negation, not one per term.
    reg signed [X_W+1:0] value, negated;
    reg signed [LANE_W-1:0] chosen, product;
    reg [TERM_W-1:0] term;
    integer i, k;

    always @* begin
        for (i = 0; i < SIMD; i = i + 1) begin
            if (X_BINARY != 0)
                value = {{(X_W + 1){~x[i]}}, 1'b1};
            else
                value = {{2{X_SIGNED != 0 && x[i*X_W+X_W-1]}}, x[i*X_W +: X_W]};
            negated = -value;
            product = {LANE_W{1'b0}};
            for (k = 0; k < K; k = k + 1) begin
                term = w[(i*K+k)*TERM_W +: TERM_W];
                chosen = term[TERM_W-2] ? {{(LANE_W - X_W - 2){negated[X_W+1]}}, negated}
                                        : {{(LANE_W - X_W - 2){value[X_W+1]}}, value};
                if (term[TERM_W-1])
                    product = product + (chosen <<< term[SHIFT_W-1:0]);
            end
            products[i*LANE_W +: LANE_W] = product;
        end
    end
endmodule
