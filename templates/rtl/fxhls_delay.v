// D enabled registers in a row: `out` is `in` as it was D clocks with `en` ago (D = 0:
// a wire). The pipelines of fxhls_mvu delay their control and their adder trees'
// shallower halves with it.
module fxhls_delay #(
    parameter integer W = 1,
    parameter integer D = 1
) (
    input  wire clk,
    input  wire en,
    input  wire [W-1:0] in,
    output wire [W-1:0] out
);
    generate
        if (D == 0) begin : g_wire
            assign out = in;
        end else begin : g_registers
            reg [W-1:0] stages [0:D-1];
            integer i;
            always @(posedge clk)
                if (en) begin
                    stages[0] <= in;
                    for (i = 1; i < D; i = i + 1) stages[i] <= stages[i-1];
                end
            assign out = stages[D-1];
        end
    endgenerate
endmodule
