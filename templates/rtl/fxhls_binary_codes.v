// fxhls_binary_codes: binarized values (one bit per lane, 1 meaning +1 and 0 meaning -1)
// as the 2-bit codes of ap_fixed<2,2> (+1 = 2'b01, -1 = 2'b11), for a stage or a stream
// that takes codes. Wiring only: valid and ready pass through.
module fxhls_binary_codes #(
    parameter integer LANES = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [2*LANES-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            assign m_axis_tdata[2*i +: 2] = {!s_axis_tdata[i], 1'b1};
        end
    endgenerate
    assign m_axis_tvalid = s_axis_tvalid;
    assign s_axis_tready = m_axis_tready;
endmodule
