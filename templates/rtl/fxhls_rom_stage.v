// fxhls_rom_stage: a pipeline stage whose register is the read of a ROM: each of LANES
// lanes reads the entry at its index, and the entries leave registered, one beat per clock
// (the handshake is fxhls_stage's). A registered read is what block RAM does, so synthesis
// may map the ROM to block RAM (two lanes per copy) or LUT RAM; a read nothing registers
// would be a tree of LUTs as deep as the index is wide.
//
// ENTRIES holds N entries of W bits (entry k at bits [k*W +: W]), filled at start-up (a
// loop of N would pass Verilator's generate unroll limit). PAYLOAD (PAYLOAD_W >= 1 bits:
// pass one zero bit where nothing travels) is registered beside the entries.
//   s_axis_tdata: {payload, index LANES-1, ..., index 0}
//   m_axis_tdata: {payload, entry LANES-1, ..., entry 0}
module fxhls_rom_stage #(
    parameter integer LANES = 1,
    parameter integer N = 2,
    parameter integer W = 8,
    parameter [N*W-1:0] ENTRIES = 0,
    parameter integer INDEX_W = 1,
    parameter integer PAYLOAD_W = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [PAYLOAD_W+LANES*INDEX_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [PAYLOAD_W+LANES*W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    reg [W-1:0] rom [0:N-1];
    integer k;
    initial for (k = 0; k < N; k = k + 1) rom[k] = ENTRIES[k*W +: W];

    wire load = s_axis_tvalid && s_axis_tready;  // the stage takes a beat: fxhls_stage's data enable
    wire [LANES*W-1:0] entries;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            reg [W-1:0] entry;
            always @(posedge clk)
                if (load)
                    entry <= rom[s_axis_tdata[i*INDEX_W +: INDEX_W]];
            assign entries[i*W +: W] = entry;
        end
    endgenerate

    wire [PAYLOAD_W-1:0] payload;
    fxhls_stage #(.W(PAYLOAD_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(s_axis_tdata[LANES*INDEX_W +: PAYLOAD_W]), .s_axis_tvalid(s_axis_tvalid),
        .s_axis_tready(s_axis_tready),
        .m_axis_tdata(payload), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
    assign m_axis_tdata = {payload, entries};
endmodule
