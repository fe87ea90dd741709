// fxhls_argmax: the index of the largest of the C values of a beat (the first on ties),
// one beat per clock; the output (OUT_W bits, unsigned) is registered (fxhls_stage).
module fxhls_argmax #(
    parameter integer C = 2,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer OUT_W = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [C*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    wire signed [X_W:0] x [0:C-1];
    genvar i;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_lane
            wire [X_W-1:0] code = s_axis_tdata[i*X_W +: X_W];
            assign x[i] = X_SIGNED != 0 ? {code[X_W-1], code} : {1'b0, code};
        end
    endgenerate
    reg signed [X_W:0] largest;
    reg [OUT_W-1:0] index;
    integer c;
    always @* begin
        largest = x[0];
        index = {OUT_W{1'b0}};
        for (c = 1; c < C; c = c + 1)
            if (x[c] > largest) begin
                largest = x[c];
                index = c[OUT_W-1:0];
            end
    end

    fxhls_stage #(.W(OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(index), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
