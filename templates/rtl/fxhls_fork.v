// fxhls_fork: duplicates a stream of W-bit beats: m0 feeds one reader, m1 the others
// (the generated top chains k - 1 forks for k readers).
//
// A beat is taken when both output registers are free (or being emptied), so the two
// copies leave in the same order and no branch runs ahead of the others by more than
// what sits between the fork and the node where the branches meet again. A branch that
// holds beats back (a convolution's window fills KH - 1 rows and KW pixels before its
// first output) makes the others absorb the beats the fork passes meanwhile: the
// generated top puts an fxhls_fifo on every other branch, deep enough for all beats the
// branches can hold (their line buffers and pipeline registers, see
// fxhls.rtl.top_branches), otherwise a FIFO fills, the fork stops, and the holding
// branch starves.
module fxhls_fork #(
    parameter integer W = 8
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output reg  [W-1:0] m0_axis_tdata,
    output reg  m0_axis_tvalid,
    input  wire m0_axis_tready,
    output reg  [W-1:0] m1_axis_tdata,
    output reg  m1_axis_tvalid,
    input  wire m1_axis_tready
);
    wire m0_free = !m0_axis_tvalid || m0_axis_tready;
    wire m1_free = !m1_axis_tvalid || m1_axis_tready;
    assign s_axis_tready = m0_free && m1_free;
    wire take = s_axis_tvalid && s_axis_tready;

    always @(posedge clk) begin
        if (!rst_n) begin
            m0_axis_tvalid <= 1'b0;
            m1_axis_tvalid <= 1'b0;
        end else begin
            if (m0_free)
                m0_axis_tvalid <= take;
            if (m1_free)
                m1_axis_tvalid <= take;
        end
        if (take) begin
            m0_axis_tdata <= s_axis_tdata;
            m1_axis_tdata <= s_axis_tdata;
        end
    end
endmodule
