// Sliding window generator: turns a (C, H, W) image stream into the im2col column of
// every output position of a KH x KW convolution (strides SH, SW; zero padding PH, PW).
//
// In: pixels in row-major order, each pixel's C channels as C/SIMD beats of SIMD lanes
// (lane i at [i*X_W +: X_W]). Out: for each output position, in row-major order, its
// window as KH*KW/TAPS * C/SIMD beats of TAPS kernel positions ("taps") of SIMD lanes
// each: tap group g holds the taps g*TAPS .. g*TAPS+TAPS-1 in (kernel row, kernel
// column) order, tap t of a beat at [t*SIMD*X_W +: SIMD*X_W]. Beats go in (tap group,
// channel group) order, or with CHANNEL_MAJOR (TAPS = 1) in (channel group, kernel
// row, kernel column) order. With TAPS = KH*KW and SIMD = C a window is one beat. A tap
// outside the image is zeros; with PAD_FLAG each tap also carries a flag, tap t's at bit
// TAPS*SIMD*X_W + t (for binarized values, which have no zero).
//
// The pixels are kept in a line buffer of ROWS image rows (a power of two; enough rows
// for the next row of windows, or the next image's first, to arrive while a row of
// windows is read: fxhls.rtl.windows.line_buffer_rows). A pixel is taken when its row is
// less than ROWS rows after the first row the current window needs, and a window is read
// once its last pixel has arrived; the rows of the next image may come in while the last
// windows of this one are read. One beat leaves per clock; the buffer has a read port
// per tap.
module fxhls_window #(
    parameter integer C = 1,
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer H = 4,
    parameter integer W = 4,
    parameter integer KH = 3,
    parameter integer KW = 3,
    parameter integer SH = 1,
    parameter integer SW = 1,
    parameter integer PH = 0,
    parameter integer PW = 0,
    parameter integer ROWS = 4,
    parameter integer TAPS = 1,
    parameter integer CHANNEL_MAJOR = 0,
    parameter integer PAD_FLAG = 0
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [SIMD*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [(PAD_FLAG != 0 ? TAPS : 0)+TAPS*SIMD*X_W-1:0] m_axis_tdata,
    output reg  m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer CG = C / SIMD;  // beats per pixel
    localparam integer TG = KH * KW / TAPS;  // tap groups per window
    localparam integer LANES_W = TAPS * SIMD * X_W;
    localparam integer ROW_B = $clog2(ROWS);
    localparam integer COL_B = $clog2(W);
    localparam integer CG_B = $clog2(CG);
    localparam integer ADDR_W = ROW_B + COL_B + CG_B;
    localparam integer COL_W = COL_B > 0 ? COL_B : 1;
    localparam integer CG_W = CG_B > 0 ? CG_B : 1;
    localparam integer TG_W = TG > 1 ? $clog2(TG) : 1;
    // Coordinates are CW-bit signed numbers; the constants they meet, as such.
    localparam integer CW = $clog2(2 * (H + W + ROWS + KH + KW + PH + PW)) + 1;
    localparam integer LAST_OY_I = ((H + 2 * PH - KH) / SH) * SH - PH;  // the last window's top row
    localparam integer LAST_OX_I = ((W + 2 * PW - KW) / SW) * SW - PW;
    localparam integer FIRST_OY_I = -PH, FIRST_OX_I = -PW, KH_LAST_I = KH - 1, KW_LAST_I = KW - 1;
    localparam integer W_LAST_I = W - 1, CG_LAST_I = CG - 1, TG_LAST_I = TG - 1;
    localparam signed [CW-1:0] HEIGHT = H[CW-1:0], WIDTH = W[CW-1:0], BUFFER_ROWS = ROWS[CW-1:0];
    localparam signed [CW-1:0] ROW_STEP = SH[CW-1:0], COL_STEP = SW[CW-1:0];
    localparam signed [CW-1:0] FIRST_OY = FIRST_OY_I[CW-1:0], FIRST_OX = FIRST_OX_I[CW-1:0];
    localparam signed [CW-1:0] LAST_OY = LAST_OY_I[CW-1:0], LAST_OX = LAST_OX_I[CW-1:0];
    localparam signed [CW-1:0] KH_LAST = KH_LAST_I[CW-1:0], KW_LAST = KW_LAST_I[CW-1:0];
    localparam signed [CW-1:0] W_LAST = W_LAST_I[CW-1:0];
    localparam [TG_W-1:0] TG_LAST = TG_LAST_I[TG_W-1:0];
    localparam [CG_W-1:0] CG_LAST = CG_LAST_I[CG_W-1:0];

    reg [SIMD*X_W-1:0] buffer [0:(1 << ADDR_W)-1];

    // Kernel position `tap` (row-major) as its row and its column.
    function [CW-1:0] kernel_row(input integer tap);
        integer row;
        begin
            row = tap / KW;
            kernel_row = row[CW-1:0];
        end
    endfunction
    function [CW-1:0] kernel_col(input integer tap);
        integer col;
        begin
            col = tap % KW;
            kernel_col = col[CW-1:0];
        end
    endfunction

    // Read side: the window at top-left input coordinates (oy, ox), beat (tg, cg).
    reg signed [CW-1:0] oy, ox;
    reg [TG_W-1:0] tg;
    reg [CG_W-1:0] cg;
    // Write side: the next pixel to arrive, (in_row, in_col, in_cg), rows counted from
    // the image the windows are read from; in_row - H and beyond belong to the next one.
    reg signed [CW-1:0] in_row, in_col;
    reg [CG_W-1:0] in_cg;
    reg [ROW_B-1:0] base;  // the buffer row of image row 0

    wire signed [CW-1:0] first_row = oy < 0 ? 0 : oy;
    assign s_axis_tready = in_row < first_row + BUFFER_ROWS;
    wire write = s_axis_tvalid && s_axis_tready;
    wire row_written = write && in_cg == CG_LAST && in_col == W_LAST;
    wire [ROW_B-1:0] write_row = base + in_row[ROW_B-1:0];

    // The last pixel the window needs, clamped to the image: a window wholly in the top or
    // left padding (a padding as large as the kernel) waits for the image's first pixel, so
    // it belongs to that image and is not read ahead of it.
    wire signed [CW-1:0] last_row = oy + KH_LAST, last_col = ox + KW_LAST;
    wire signed [CW-1:0] need_row = last_row >= HEIGHT ? HEIGHT - 1 : last_row < 0 ? 0 : last_row;
    wire signed [CW-1:0] need_col = last_col >= WIDTH ? WIDTH - 1 : last_col < 0 ? 0 : last_col;
    wire arrived = in_row > need_row || (in_row == need_row && in_col > need_col);

    // A beat's buffer address is {row, column, channel group}, each field as wide as its
    // count needs (a field with one value has no bits), so the fields are zero-extended.
    /* verilator lint_off WIDTHEXPAND */
    wire [ADDR_W-1:0] write_addr = (write_row << (COL_B + CG_B)) | (in_col[COL_W-1:0] << CG_B) | in_cg;
    /* verilator lint_on WIDTHEXPAND */

    wire advance = !m_axis_tvalid || m_axis_tready;
    wire read = advance && arrived;
    wire cg_last = cg == CG_LAST, tg_last = tg == TG_LAST;
    wire window_done = read && cg_last && tg_last;
    wire image_done = window_done && oy == LAST_OY && ox == LAST_OX;

    always @(posedge clk)
        if (write) buffer[write_addr] <= s_axis_tdata;

    always @(posedge clk) begin
        if (!rst_n) begin
            in_row <= 0;
            in_col <= 0;
            in_cg <= 0;
            base <= 0;
        end else begin
            if (write) begin
                in_cg <= in_cg == CG_LAST ? 0 : in_cg + 1;
                if (in_cg == CG_LAST) in_col <= in_col == W_LAST ? 0 : in_col + 1;
            end
            in_row <= in_row + {{(CW - 1){1'b0}}, row_written} - (image_done ? HEIGHT : 0);
            if (image_done) base <= base + HEIGHT[ROW_B-1:0];
        end
    end

    always @(posedge clk) begin
        if (!rst_n) begin
            oy <= FIRST_OY;
            ox <= FIRST_OX;
            tg <= 0;
            cg <= 0;
        end else if (read) begin
            if (CHANNEL_MAJOR != 0) begin
                tg <= tg_last ? 0 : tg + 1;
                if (tg_last) cg <= cg_last ? 0 : cg + 1;
            end else begin
                cg <= cg_last ? 0 : cg + 1;
                if (cg_last) tg <= tg_last ? 0 : tg + 1;
            end
            if (window_done) begin
                ox <= ox == LAST_OX ? FIRST_OX : ox + COL_STEP;
                if (ox == LAST_OX) oy <= oy == LAST_OY ? FIRST_OY : oy + ROW_STEP;
            end
        end
    end

    // Per tap: its kernel position, its buffer read port (with enable) and padding flag,
    // registered: the output beat.
    always @(posedge clk)
        if (!rst_n) m_axis_tvalid <= 0;
        else if (advance) m_axis_tvalid <= arrived;

    wire [LANES_W-1:0] lanes;
    wire [TAPS-1:0] flags;
    genvar t;
    generate
        for (t = 0; t < TAPS; t = t + 1) begin : g_tap
            // The kernel row and column of tap tg * TAPS + t: a constant per tap group,
            // chosen by tg (no arithmetic on tg; with one group, a constant).
            reg [CW-1:0] ky, kx;
            integer g;
            always @* begin
                ky = {CW{1'b0}};
                kx = {CW{1'b0}};
                for (g = 0; g < TG; g = g + 1)
                    /* verilator lint_off WIDTHEXPAND */
                    if (TG == 1 || tg == g) begin
                    /* verilator lint_on WIDTHEXPAND */
                        ky = kernel_row(g * TAPS + t);
                        kx = kernel_col(g * TAPS + t);
                    end
            end
            wire signed [CW-1:0] iy = oy + ky;
            wire signed [CW-1:0] ix = ox + kx;
            wire padding = iy < 0 || iy >= HEIGHT || ix < 0 || ix >= WIDTH;
            wire [ROW_B-1:0] read_row = base + iy[ROW_B-1:0];
            /* verilator lint_off WIDTHEXPAND */
            wire [ADDR_W-1:0] read_addr = (read_row << (COL_B + CG_B)) | (ix[COL_W-1:0] << CG_B) | cg;
            /* verilator lint_on WIDTHEXPAND */
            reg [SIMD*X_W-1:0] pixel;
            reg pixel_padding;
            always @(posedge clk)
                if (advance) begin
                    pixel <= buffer[read_addr];
                    pixel_padding <= padding;
                end
            assign lanes[t*SIMD*X_W +: SIMD*X_W] = pixel_padding ? {SIMD*X_W{1'b0}} : pixel;
            assign flags[t] = pixel_padding;
        end
        if (PAD_FLAG != 0) begin : g_flagged
            assign m_axis_tdata = {flags, lanes};
        end else begin : g_plain
            assign m_axis_tdata = lanes;
        end
    endgenerate
endmodule
