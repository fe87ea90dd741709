// fxhls_pipeline_stage: fxhls_stage where REGISTER is 1, else a wire (the stream passes
// through unchanged): an optional register of a module's pipeline.
module fxhls_pipeline_stage #(
    parameter integer W = 8,
    parameter integer REGISTER = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    generate
        if (REGISTER != 0) begin : g_register
            fxhls_stage #(.W(W)) stage (
                .clk(clk), .rst_n(rst_n),
                .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
                .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
            );
        end else begin : g_wire
            assign m_axis_tdata = s_axis_tdata;
            assign m_axis_tvalid = s_axis_tvalid;
            assign s_axis_tready = m_axis_tready;
        end
    endgenerate
endmodule
