// The sum of N terms of W bits as a balanced tree of adders, each level one bit wider
// than the one below (a chain of full-width adders would cost N times the widest).
// Terms are two's complement when SIGNED, else unsigned; the sum has W + $clog2(N) bits,
// which hold any sum of the terms, and the same signedness.
//
// STAGE = 0: combinational (clk and en unused). STAGE > 0: pipelined, a register (loaded
// when `en`) at every cut: below the adders of height 1 (the terms) and then every STAGE
// levels, the height of an adder being $clog2 of its terms. A half whose tree is
// shallower than its sibling's crosses the same cuts (its registers sit where the edge to
// its parent crosses them), so every term passes REGS = ceil($clog2(N) / STAGE) registers
// and at most STAGE adder levels lie between two of them, or after the last; the sum is
// that of the terms REGS clocks with `en` before. TOP_H is the height of the whole tree
// (set by the tree for its halves; leave it at its default).
module fxhls_adder_tree #(
    parameter integer N = 2,
    parameter integer W = 8,
    parameter integer SIGNED = 1,
    parameter integer STAGE = 0,
    parameter integer TOP_H = -1
) (
    input  wire clk,
    input  wire en,
    input  wire [N*W-1:0] terms,
    output wire [W+$clog2(N)-1:0] sum
);
    localparam integer SUM_W = W + $clog2(N);
    localparam integer H = $clog2(N);
    localparam integer TREE_H = TOP_H < 0 ? H : TOP_H;

    // The cuts c (registers on every edge from height <= c to height > c) in [low, high).
    function integer cuts(input integer low, input integer high);
        integer c;
        begin
            cuts = 0;
            for (c = low; c < high; c = c + 1)
                if (STAGE > 0 && c % STAGE == 0 && c < TREE_H) cuts = cuts + 1;
        end
    endfunction

    generate
        if (N == 1) begin : g_leaf
            assign sum = terms;
        end else begin : g_node
            localparam integer LOW_N = N / 2;
            localparam integer LOW_W = W + $clog2(LOW_N);
            localparam integer HIGH_W = W + $clog2(N - LOW_N);
            wire [LOW_W-1:0] low, low_cut;
            wire [HIGH_W-1:0] high, high_cut;
            fxhls_adder_tree #(.N(LOW_N), .W(W), .SIGNED(SIGNED), .STAGE(STAGE), .TOP_H(TREE_H)) low_half (
                .clk(clk), .en(en), .terms(terms[LOW_N*W-1:0]), .sum(low)
            );
            fxhls_adder_tree #(.N(N - LOW_N), .W(W), .SIGNED(SIGNED), .STAGE(STAGE), .TOP_H(TREE_H)) high_half (
                .clk(clk), .en(en), .terms(terms[N*W-1:LOW_N*W]), .sum(high)
            );
            fxhls_delay #(.W(LOW_W), .D(cuts($clog2(LOW_N), H))) low_edge (
                .clk(clk), .en(en), .in(low), .out(low_cut)
            );
            fxhls_delay #(.W(HIGH_W), .D(cuts($clog2(N - LOW_N), H))) high_edge (
                .clk(clk), .en(en), .in(high), .out(high_cut)
            );
            wire low_sign = SIGNED != 0 && low_cut[LOW_W-1];
            wire high_sign = SIGNED != 0 && high_cut[HIGH_W-1];
            assign sum = {{(SUM_W - LOW_W){low_sign}}, low_cut} + {{(SUM_W - HIGH_W){high_sign}}, high_cut};
        end
    endgenerate
endmodule
