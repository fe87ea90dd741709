// fxhls_table: an element-wise function as a lookup table (a ROM), on each of LANES lanes.
//
// ENTRIES holds N codes of OUT_W bits (entry k: bits [k*OUT_W +: OUT_W]), as fxhls quantized
// the float function to the output type (fxhls.ir.ops.table), as the emulator and the HLS
// ROM hold them. A full table (TRUNCATED 0, N = 2**X_W) is indexed by the input's raw bits.
// A truncated one (an input wider than 16 bits, fxhls.fixed.table_grid) by the input's code
// clamped to [LOW, HIGH], less LOW, with its DROP low bits rounded off (to nearest, ties up).
// The read is registered (fxhls_rom_stage: block RAM, two lanes per copy, or LUT RAM where
// synthesis finds it worth it; no tree of LUTs as deep as the index is wide).
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
    localparam signed [X_W+1:0] HALF = DROP > 0 ? (1 <<< (DROP - 1)) : 0;
    localparam integer INDEX_W = TRUNCATED != 0 ? (N > 2 ? $clog2(N) : 1) : X_W;
    wire [LANES*INDEX_W-1:0] indices;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            if (TRUNCATED != 0) begin : g_truncated
                wire [X_W-1:0] bits = s_axis_tdata[i*X_W +: X_W];
                wire signed [X_W+1:0] code = X_SIGNED != 0 ? {{2{bits[X_W-1]}}, bits} : {2'b00, bits};
                wire signed [X_W+1:0] clamped = code < LOW ? LOW : (code > HIGH ? HIGH : code);
                wire signed [X_W+1:0] offset = clamped - LOW + HALF;
                wire signed [X_W+1:0] index = offset >>> DROP;  // 0 to N - 1
                assign indices[i*INDEX_W +: INDEX_W] = index[INDEX_W-1:0];
            end else begin : g_full
                assign indices[i*INDEX_W +: INDEX_W] = s_axis_tdata[i*X_W +: X_W];
            end
        end
    endgenerate

    wire unused_payload;
    fxhls_rom_stage #(.LANES(LANES), .N(N), .W(OUT_W), .ENTRIES(ENTRIES), .INDEX_W(INDEX_W)) read (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({1'b0, indices}), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata({unused_payload, m_axis_tdata}), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
