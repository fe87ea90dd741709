// fxhls_fifo: a first-in first-out queue of W-bit beats between two streams.
//
// Holds DEPTH beats in a memory (synchronous read: block or distributed RAM) plus one
// in its output register. A beat that enters an empty queue leaves two clocks later;
// one beat per clock passes in steady state. `s_axis_tready` depends only on the fill
// level (a register), so a queue also cuts the combinational ready path between stages.
module fxhls_fifo #(
    parameter integer W = 8,
    parameter integer DEPTH = 16
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
    localparam integer ADDR_W = DEPTH > 1 ? $clog2(DEPTH) : 1;
    localparam integer COUNT_W = $clog2(DEPTH + 1);
    /* verilator lint_off WIDTHTRUNC */
    localparam [ADDR_W-1:0] LAST_ADDR = DEPTH - 1;  // both fit their widths
    localparam [COUNT_W-1:0] FULL = DEPTH;
    /* verilator lint_on WIDTHTRUNC */

    reg [W-1:0] memory [0:DEPTH-1];
    reg [ADDR_W-1:0] write_addr, read_addr;
    reg [COUNT_W-1:0] stored;  // beats in the memory (the output register not counted)

    wire write = s_axis_tvalid && s_axis_tready;
    wire read = stored != 0 && (!m_axis_tvalid || m_axis_tready);
    assign s_axis_tready = stored != FULL;

    function [ADDR_W-1:0] next_addr(input [ADDR_W-1:0] addr);
        next_addr = addr == LAST_ADDR ? {ADDR_W{1'b0}} : addr + 1'b1;
    endfunction

    always @(posedge clk) begin
        if (write)
            memory[write_addr] <= s_axis_tdata;
        if (read)
            m_axis_tdata <= memory[read_addr];
    end

    always @(posedge clk) begin
        if (!rst_n) begin
            write_addr <= 0;
            read_addr <= 0;
            stored <= 0;
            m_axis_tvalid <= 1'b0;
        end else begin
            if (write)
                write_addr <= next_addr(write_addr);
            if (read)
                read_addr <= next_addr(read_addr);
            stored <= stored + {{(COUNT_W - 1){1'b0}}, write} - {{(COUNT_W - 1){1'b0}}, read};
            if (read)
                m_axis_tvalid <= 1'b1;
            else if (m_axis_tready)
                m_axis_tvalid <= 1'b0;
        end
    end
endmodule
