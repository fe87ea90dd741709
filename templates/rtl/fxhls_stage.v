// fxhls_stage: a pipeline register between two streams of W-bit beats.
//
// The element-wise modules compute their result combinationally from the input beat
// and pass it through a stage: the result is registered, one beat per clock flows
// when the consumer is ready, and `s_axis_tready` follows `m_axis_tready`
// combinationally (a full stage takes a new beat in the clock its beat leaves).
module fxhls_stage #(
    parameter integer W = 8
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output reg  [W-1:0] m_axis_tdata,
    output reg  m_axis_tvalid,
    input  wire m_axis_tready
);
    assign s_axis_tready = !m_axis_tvalid || m_axis_tready;

    always @(posedge clk) begin
        if (!rst_n)
            m_axis_tvalid <= 1'b0;
        else if (s_axis_tready)
            m_axis_tvalid <= s_axis_tvalid;
        if (s_axis_tready && s_axis_tvalid)
            m_axis_tdata <= s_axis_tdata;
    end
endmodule
