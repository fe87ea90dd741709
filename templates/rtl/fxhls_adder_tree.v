// The sum of N terms of W bits as a balanced tree of adders, each level one bit wider
// than the one below (a chain of full-width adders would cost N times the widest).
// Terms are two's complement when SIGNED, else unsigned; the sum has W + $clog2(N) bits,
// which hold any sum of the terms, and the same signedness.
module fxhls_adder_tree #(
    parameter integer N = 2,
    parameter integer W = 8,
    parameter integer SIGNED = 1
) (
    input  wire [N*W-1:0] terms,
    output wire [W+$clog2(N)-1:0] sum
);
    localparam integer SUM_W = W + $clog2(N);

    generate
        if (N == 1) begin : g_leaf
            assign sum = terms;
        end else begin : g_node
            localparam integer LOW_N = N / 2;
            localparam integer LOW_W = W + $clog2(LOW_N);
            localparam integer HIGH_W = W + $clog2(N - LOW_N);
            wire [LOW_W-1:0] low;
            wire [HIGH_W-1:0] high;
            fxhls_adder_tree #(.N(LOW_N), .W(W), .SIGNED(SIGNED)) low_half (
                .terms(terms[LOW_N*W-1:0]), .sum(low)
            );
            fxhls_adder_tree #(.N(N - LOW_N), .W(W), .SIGNED(SIGNED)) high_half (
                .terms(terms[N*W-1:LOW_N*W]), .sum(high)
            );
            wire low_sign = SIGNED != 0 && low[LOW_W-1];
            wire high_sign = SIGNED != 0 && high[HIGH_W-1];
            assign sum = {{(SUM_W - LOW_W){low_sign}}, low} + {{(SUM_W - HIGH_W){high_sign}}, high};
        end
    endgenerate
endmodule
