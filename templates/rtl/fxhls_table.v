// fxhls_table: an element-wise function as a lookup table (a ROM), on each of LANES lanes.
//
// ENTRIES holds N codes of OUT_W bits (entry k: bits [k*OUT_W +: OUT_W]), as fxhls quantized
// the float function to the output type (fxhls.ir.ops.table), as the emulator and the HLS
// ROM hold them. A full table (TRUNCATED 0, N = 2**X_W) is indexed by the input's raw bits.
// A truncated one (an input wider than 16 bits, fxhls.fixed.table_grid) by the input's code
// clamped to [LOW, HIGH], less LOW, with its DROP low bits rounded off (to nearest, ties up).
// The output is registered (fxhls_stage).
module fxhls_table #(
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer OUT_W = 8,
    parameter integer TRUNCATED = 0,
    parameter integer N = 2**X_W,
    parameter signed [X_W+1:0] LOW = 0,
    parameter signed [X_W+1:0] HIGH = 0,
    parameter integer DROP = 0,
    parameter [N*OUT_W-1:0] ENTRIES = 0
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [LANES*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    // The entries as a memory read by the index (no run-time index times OUT_W), filled
    // at start-up (a loop of N would pass Verilator's generate unroll limit).
    reg [OUT_W-1:0] rom [0:N-1];
    integer k;
    initial for (k = 0; k < N; k = k + 1) rom[k] = ENTRIES[k*OUT_W +: OUT_W];
    localparam signed [X_W+1:0] HALF = DROP > 0 ? (1 <<< (DROP - 1)) : 0;
    localparam integer INDEX_W = N > 2 ? $clog2(N) : 1;
    wire [LANES*OUT_W-1:0] result;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            if (TRUNCATED != 0) begin : g_truncated
                wire [X_W-1:0] bits = s_axis_tdata[i*X_W +: X_W];
                wire signed [X_W+1:0] code = X_SIGNED != 0 ? {{2{bits[X_W-1]}}, bits} : {2'b00, bits};
                wire signed [X_W+1:0] clamped = code < LOW ? LOW : (code > HIGH ? HIGH : code);
                wire signed [X_W+1:0] offset = clamped - LOW + HALF;
                wire signed [X_W+1:0] index = offset >>> DROP;  // 0 to N - 1
                assign result[i*OUT_W +: OUT_W] = rom[index[INDEX_W-1:0]];
            end else begin : g_full
                assign result[i*OUT_W +: OUT_W] = rom[s_axis_tdata[i*X_W +: X_W]];
            end
        end
    endgenerate

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
