// Matrix-vector unit: out[o] = cast(b[o] + sum_k W[o][k] * x[k]) for a stream of
// input vectors, folded as in FINN.
//
// An input vector of SF*SIMD values arrives as SF beats of SIMD lanes; the unit
// computes PE output neurons at once and emits the vector's NF*PE outputs as NF beats
// of PE lanes, lane p of beat nf being neuron nf*PE + p. Every clock it consumes one
// (nf, sf) pair, so a vector takes SF*NF clocks (its initiation interval). With NF = 1
// the beats stream straight through and a vector's first output leaves 3 + REGS clocks
// after its last beat went in (REGS: the dot product's pipeline registers, below). With NF > 1 the beats are written into one of two vector
// buffers and computed from there (a beat one clock after it is written), so the next
// vector's beats are taken while the folds nf > 0 of this one are computed: the input
// never waits for the folds, only for a free buffer.
//
// Weights and per-neuron constants come from ROMs outside (rendered per layer) with
// a registered output: `weight_data` is the word at `weight_addr` (nf*SF + sf) and
// `neuron_data` the word at `neuron_addr` (nf), one clock after their enable.
// Weight word: neuron p's lanes at [p*SIMD*W_W +: SIMD*W_W], lane s at [s*W_W +: W_W]:
// a code (KIND "mul"), K terms (KIND "khot", see fxhls_dot_khot) or a bit ("xnor").
// Neuron word of neuron p at [p*NEURON_W +: NEURON_W]: the accumulator's initial value
// (the bias already cast into the accumulator), and with THRESHOLD
// {direction, threshold (ACC_W+2 bits), initial value}.
//
// The accumulator (ACC_W bits, ACC_FRAC fractional) adds each beat's dot product, whose
// lsb weighs 2**-DOT_FRAC. Without STEPWISE it wraps modulo 2**ACC_W, which is exact
// for an accumulator that never overflows nor rounds (and, being modular, equal to
// C++'s order for an AP_WRAP one that never rounds): ACC_FRAC >= DOT_FRAC. With
// STEPWISE every product is cast into the accumulator as `acc += w * x` does in C++
// (rounding and overflow modes ACC_ROUNDING, ACC_OVERFLOW); that needs SIMD = 1.
// The output is the accumulator cast to the out type, or with THRESHOLD one bit:
// 1 (+1) where acc >= threshold (direction 1) or acc <= threshold (direction 0).
// With X_PAD > 0 a beat carries X_PAD padding flags above its lanes, flag g for the
// lanes g*SIMD/X_PAD .. (g+1)*SIMD/X_PAD-1 (one tap of a convolution's window): those
// lanes contribute nothing where it is set.
//
// DOT_STAGE > 0 pipelines each beat's dot product (fxhls_mvu_dot): its products are
// registered, then every DOT_STAGE levels of its adder tree, REGS registers in all, so
// that a wide SIMD keeps each clock's logic within the board's clock; the interval stays
// SF*NF clocks per vector, the control and the neuron ROM's address follow the REGS
// stages. DOT_STAGE = 0: the dot product is one combinational stage (REGS = 0).
module fxhls_mvu #(
    parameter KIND = "mul",
    parameter integer SIMD = 1,
    parameter integer PE = 1,
    parameter integer SF = 1,
    parameter integer NF = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer X_BINARY = 0,
    parameter integer X_PAD = 0,
    parameter integer W_W = 8,
    parameter integer W_SIGNED = 1,
    parameter integer K = 1,
    parameter integer SHIFT_W = 1,
    parameter integer DOT_W = 24,
    parameter integer DOT_FRAC = 0,
    parameter integer ACC_W = 24,
    parameter integer ACC_FRAC = 0,
    parameter integer ACC_SIGNED = 1,
    parameter integer STEPWISE = 0,
    parameter ACC_ROUNDING = "AP_TRN",
    parameter ACC_OVERFLOW = "AP_WRAP",
    parameter integer THRESHOLD = 0,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1,
    parameter OUT_ROUNDING = "AP_TRN",
    parameter OUT_OVERFLOW = "AP_WRAP",
    parameter integer DOT_STAGE = 0,
    // derived: the dot product's pipeline registers, the widths of the ports
    parameter integer REGS = DOT_STAGE > 0 ? ($clog2(SIMD) + DOT_STAGE - 1) / DOT_STAGE : 0,
    parameter integer BEAT_W = X_PAD + SIMD * X_W,
    parameter integer WEIGHT_ADDR_W = SF * NF > 1 ? $clog2(SF * NF) : 1,
    parameter integer NEURON_ADDR_W = NF > 1 ? $clog2(NF) : 1,
    parameter integer NEURON_W = THRESHOLD != 0 ? 2 * ACC_W + 3 : ACC_W
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [BEAT_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [PE*OUT_W-1:0] m_axis_tdata,
    output reg  m_axis_tvalid,
    input  wire m_axis_tready,
    output reg  [WEIGHT_ADDR_W-1:0] weight_addr,
    output wire weight_en,
    input  wire [PE*SIMD*W_W-1:0] weight_data,
    output reg  [NEURON_ADDR_W-1:0] neuron_addr,
    output wire neuron_en,
    input  wire [PE*NEURON_W-1:0] neuron_data
);
    localparam integer SF_W = SF > 1 ? $clog2(SF) : 1;
    localparam integer NF_W = NEURON_ADDR_W;
    localparam integer SF_LAST_I = SF - 1, NF_LAST_I = NF - 1, ADDR_LAST_I = SF * NF - 1;
    localparam [SF_W-1:0] SF_LAST = SF_LAST_I[SF_W-1:0];
    localparam [NF_W-1:0] NF_LAST = NF_LAST_I[NF_W-1:0];
    localparam [WEIGHT_ADDR_W-1:0] ADDR_LAST = ADDR_LAST_I[WEIGHT_ADDR_W-1:0];

    // The whole pipeline moves when its output register is free.
    wire advance = !m_axis_tvalid || m_axis_tready;
    assign weight_en = advance;
    assign neuron_en = advance;

    // Stage A: the (nf, sf) pair to compute, once its beat is there.
    reg [SF_W-1:0] sf;
    reg [NF_W-1:0] nf;
    wire available;
    wire fire = advance && available;
    wire vector_done = fire && sf == SF_LAST && nf == NF_LAST;

    always @(posedge clk) begin
        if (!rst_n) begin
            sf <= 0;
            nf <= 0;
            weight_addr <= 0;
        end else if (fire) begin
            sf <= sf == SF_LAST ? 0 : sf + 1;
            if (sf == SF_LAST) nf <= nf == NF_LAST ? 0 : nf + 1;
            weight_addr <= weight_addr == ADDR_LAST ? 0 : weight_addr + 1;
        end
    end

    // Stage B: the beat, and its weights from the ROM.
    reg [BEAT_W-1:0] beat_b;
    reg valid_b, first_b, last_b;
    generate
        if (NF > 1) begin : g_keep_vector
            // Two vector buffers: the input writes one (in_bank, at in_sf) while the folds
            // read the other (bank); a buffer is full from its last write to its last read.
            reg [BEAT_W-1:0] vector [0:2*SF-1];
            reg [SF_W-1:0] in_sf;
            reg in_bank, bank;
            reg [1:0] full;
            assign s_axis_tready = !full[in_bank];
            wire write = s_axis_tvalid && s_axis_tready;
            wire written = write && in_sf == SF_LAST;
            assign available = full[bank] || (in_bank == bank && in_sf > sf);
            localparam integer VECTOR_ADDR_W = $clog2(2 * SF);
            localparam [VECTOR_ADDR_W-1:0] SECOND = SF[VECTOR_ADDR_W-1:0];  // bank 1's first address
            /* verilator lint_off WIDTHEXPAND */
            wire [VECTOR_ADDR_W-1:0] write_addr = in_bank ? SECOND + in_sf : in_sf;
            wire [VECTOR_ADDR_W-1:0] read_addr = bank ? SECOND + sf : sf;
            /* verilator lint_on WIDTHEXPAND */
            always @(posedge clk) begin
                if (write) vector[write_addr] <= s_axis_tdata;
                if (advance) beat_b <= vector[read_addr];
            end
            always @(posedge clk) begin
                if (!rst_n) begin
                    in_sf <= 0;
                    in_bank <= 0;
                    bank <= 0;
                    full <= 0;
                end else begin
                    if (write) in_sf <= written ? 0 : in_sf + 1;
                    if (written) in_bank <= !in_bank;
                    if (vector_done) bank <= !bank;
                    full <= (full | ({1'b0, written} << in_bank)) & ~({1'b0, vector_done} << bank);
                end
            end
        end else begin : g_stream_vector
            assign available = s_axis_tvalid;
            assign s_axis_tready = advance;
            always @(posedge clk)
                if (advance) beat_b <= s_axis_tdata;
        end
    endgenerate

    always @(posedge clk) begin
        if (!rst_n) valid_b <= 0;
        else if (advance) valid_b <= fire;
        if (advance) begin
            first_b <= sf == 0;
            last_b <= sf == SF_LAST;
        end
    end

    // The dot product's REGS pipeline stages, B+1 .. B+REGS = P: the beat's control
    // follows it, and the neuron ROM's address is the fold of the beat in stage P (its
    // word reaches stage C with that beat).
    wire valid_p, first_p, last_p;
    wire [NF_W-1:0] nf_before_p;
    fxhls_delay #(.W(2), .D(REGS)) control (
        .clk(clk), .en(advance), .in({first_b, last_b}), .out({first_p, last_p})
    );
    fxhls_delay #(.W(NF_W), .D(REGS)) fold (.clk(clk), .en(advance), .in(nf), .out(nf_before_p));
    always @(posedge clk)
        if (advance) neuron_addr <= nf_before_p;
    generate
        if (REGS > 0) begin : g_valid_pipe
            reg [REGS-1:0] valid_pipe;
            wire [REGS:0] shifted = {valid_pipe, valid_b};
            always @(posedge clk)
                if (!rst_n) valid_pipe <= 0;
                else if (advance) valid_pipe <= shifted[REGS-1:0];
            assign valid_p = valid_pipe[REGS-1];
        end else begin : g_valid_now
            assign valid_p = valid_b;
        end
    endgenerate

    // Stage C: dot products (registered), accumulation, output.
    reg valid_c, first_c, last_c;
    always @(posedge clk) begin
        if (!rst_n) valid_c <= 0;
        else if (advance) valid_c <= valid_p;
        if (advance) begin
            first_c <= first_p;
            last_c <= last_p;
        end
        if (!rst_n) m_axis_tvalid <= 0;
        else if (advance) m_axis_tvalid <= valid_c && last_c;
    end

    // The beat's lanes in GROUPS groups, each with its padding flag (none: never set).
    localparam integer GROUPS = X_PAD > 0 ? X_PAD : 1;
    wire [GROUPS-1:0] padding_b;
    generate
        if (X_PAD > 0) begin : g_flags
            assign padding_b = beat_b[BEAT_W-1 -: X_PAD];
        end else begin : g_no_flags
            assign padding_b = 1'b0;
        end
    endgenerate

    genvar p;
    generate
        for (p = 0; p < PE; p = p + 1) begin : g_neuron
            wire signed [DOT_W-1:0] dot_p;
            reg signed [DOT_W-1:0] dot_c;
            reg [ACC_W-1:0] acc;
            wire [ACC_W-1:0] acc_next;
            wire [NEURON_W-1:0] constants = neuron_data[p*NEURON_W +: NEURON_W];
            wire [ACC_W-1:0] acc_base = first_c ? constants[ACC_W-1:0] : acc;
            reg [OUT_W-1:0] out;

            fxhls_mvu_dot #(
                .KIND(KIND), .SIMD(SIMD), .X_W(X_W), .X_SIGNED(X_SIGNED), .X_BINARY(X_BINARY),
                .W_W(W_W), .W_SIGNED(W_SIGNED), .K(K), .SHIFT_W(SHIFT_W), .DOT_W(DOT_W),
                .GROUPS(GROUPS), .STAGE(DOT_STAGE)
            ) lanes (
                .clk(clk), .en(advance), .x(beat_b[SIMD*X_W-1:0]), .w(weight_data[p*SIMD*W_W +: SIMD*W_W]),
                .padding(padding_b), .dot(dot_p)
            );

            always @(posedge clk)
                if (advance) dot_c <= dot_p;

            fxhls_mvu_accumulate #(
                .DOT_W(DOT_W), .DOT_FRAC(DOT_FRAC), .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC),
                .ACC_SIGNED(ACC_SIGNED), .STEPWISE(STEPWISE),
                .ROUNDING(ACC_ROUNDING), .OVERFLOW(ACC_OVERFLOW)
            ) accumulate (
                .acc(acc_base), .dot(dot_c), .acc_next(acc_next)
            );

            always @(posedge clk)
                if (advance && valid_c) acc <= acc_next;

            if (THRESHOLD != 0) begin : g_threshold
                wire signed [ACC_W+1:0] threshold = constants[2*ACC_W+1:ACC_W];
                wire signed [ACC_W+1:0] value = {{2{ACC_SIGNED != 0 && acc_next[ACC_W-1]}}, acc_next};
                wire rising = constants[2*ACC_W+2];
                always @(posedge clk)
                    if (advance && valid_c && last_c)
                        out <= rising ? value >= threshold : value <= threshold;
            end else begin : g_cast
                wire [OUT_W-1:0] cast_value;
                fxhls_cast #(
                    .IN_W(ACC_W), .IN_FRAC(ACC_FRAC), .IN_SIGNED(ACC_SIGNED),
                    .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                    .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
                ) to_out (
                    .in(acc_next), .out(cast_value)
                );
                always @(posedge clk)
                    if (advance && valid_c && last_c) out <= cast_value;
            end
            assign m_axis_tdata[p*OUT_W +: OUT_W] = out;
        end
    endgenerate
endmodule
