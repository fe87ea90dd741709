// fxhls_max_tree: the largest of the N values of a beat and the index of its first
// occurrence (the lowest index among equal values, as the IR's ArgMax and numpy's argmax),
// as a pipelined tree of compare-and-selects, one beat per clock.
//
// Level l of the tree holds ceil(N / 2**l) candidates {index, value}: candidate j is the
// larger of candidates 2j and 2j+1 of the level before (2j, whose indices are the lower,
// unless 2j+1 is larger; a last odd one passes). After every STEP levels, and after the
// last, a register (fxhls_stage) ends the path, so a path holds at most STEP comparisons
// whatever N. PAYLOAD travels beside the values (PAYLOAD_W >= 1 bits: pass one zero bit
// where nothing travels). Values are signed X_W-bit codes.
//   s_axis_tdata: {payload, value N-1, ..., value 0}
//   m_axis_tdata: {payload, index, largest value}
module fxhls_max_tree #(
    parameter integer N = 2,
    parameter integer X_W = 8,
    parameter integer INDEX_W = 1,
    parameter integer PAYLOAD_W = 1,
    parameter integer STEP = 2
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [PAYLOAD_W+N*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [PAYLOAD_W+INDEX_W+X_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer LEVELS = N > 1 ? $clog2(N) : 0;
    localparam integer E_W = INDEX_W + X_W;  // a candidate: {index, value}

    localparam integer LEVEL_W = N*E_W;
    // Level l's candidates in `candidates[l*LEVEL_W +: LEVEL_W]` (low bits first, the rest
    // zero), its payload and handshake, as the stream leaves the level: through its
    // register when it has one, else as computed.
    // (Each level reads the one before: no loop, though Verilator sees one through the
    // vectors and would evaluate them more than once a clock.)
    /* verilator lint_off UNOPTFLAT */
    wire [(LEVELS+1)*LEVEL_W-1:0] candidates;
    wire [(LEVELS+1)*PAYLOAD_W-1:0] payload;
    wire [LEVELS:0] valid, ready;

    genvar l, j;
    generate
        for (l = 0; l <= LEVELS; l = l + 1) begin : g_level
            localparam integer COUNT = (N + (1 << l) - 1) >> l;
            wire [COUNT*E_W-1:0] computed;
            wire [PAYLOAD_W-1:0] payload_in;
            wire valid_in, ready_out;
            if (l == 0) begin : g_leaves
                for (j = 0; j < N; j = j + 1) begin : g_leaf
                    /* verilator lint_off WIDTHTRUNC */
                    localparam [INDEX_W-1:0] INDEX = j;  // fits INDEX_W
                    /* verilator lint_on WIDTHTRUNC */
                    assign computed[j*E_W +: E_W] = {INDEX, s_axis_tdata[j*X_W +: X_W]};
                end
                assign payload_in = s_axis_tdata[N*X_W +: PAYLOAD_W];
                assign valid_in = s_axis_tvalid;
                assign s_axis_tready = ready_out;
            end else begin : g_compare
                localparam integer BELOW = (N + (1 << (l - 1)) - 1) >> (l - 1);  // the level before's count
                wire [LEVEL_W-1:0] below = candidates[(l-1)*LEVEL_W +: LEVEL_W];
                for (j = 0; j < COUNT; j = j + 1) begin : g_pair
                    wire [E_W-1:0] left = below[2*j*E_W +: E_W];
                    if (2*j + 1 < BELOW) begin : g_two
                        wire [E_W-1:0] right = below[(2*j+1)*E_W +: E_W];
                        wire right_larger = $signed(right[X_W-1:0]) > $signed(left[X_W-1:0]);
                        assign computed[j*E_W +: E_W] = right_larger ? right : left;
                    end else begin : g_one
                        assign computed[j*E_W +: E_W] = left;
                    end
                end
                assign payload_in = payload[(l-1)*PAYLOAD_W +: PAYLOAD_W];
                assign valid_in = valid[l-1];
                assign ready[l-1] = ready_out;
            end
            if (COUNT < N) begin : g_unused
                assign candidates[l*LEVEL_W + COUNT*E_W +: (N - COUNT)*E_W] = 0;
            end
            if (l == LEVELS || (l > 0 && l % STEP == 0)) begin : g_register
                fxhls_stage #(.W(COUNT*E_W + PAYLOAD_W)) stage (
                    .clk(clk), .rst_n(rst_n),
                    .s_axis_tdata({payload_in, computed}), .s_axis_tvalid(valid_in), .s_axis_tready(ready_out),
                    .m_axis_tdata({payload[l*PAYLOAD_W +: PAYLOAD_W], candidates[l*LEVEL_W +: COUNT*E_W]}),
                    .m_axis_tvalid(valid[l]),
                    .m_axis_tready(ready[l])
                );
            end else begin : g_wire
                assign {payload[l*PAYLOAD_W +: PAYLOAD_W], candidates[l*LEVEL_W +: COUNT*E_W]} = {payload_in, computed};
                assign valid[l] = valid_in;
                assign ready_out = ready[l];
            end
        end
    endgenerate
    /* verilator lint_on UNOPTFLAT */

    assign m_axis_tdata = {payload[LEVELS*PAYLOAD_W +: PAYLOAD_W], candidates[LEVELS*LEVEL_W +: E_W]};
    assign m_axis_tvalid = valid[LEVELS];
    assign ready[LEVELS] = m_axis_tready;
endmodule
