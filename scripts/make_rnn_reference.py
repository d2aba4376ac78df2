"""Makes infer/testdata/rnn: small recurrent models with PyTorch's outputs, in
the ONNX test layout (model.onnx, test_data_set_N/{input,output}_i.pb).

Three kinds of case:
  - torch.onnx.export of torch.nn.LSTM (2 layers, batch_first), a
    bidirectional torch.nn.GRU and a ReLU torch.nn.RNN at opsets 11 and 14,
    with two data sets of different batch and sequence sizes, and of a
    stacked model (Linear, 2-layer bidirectional LSTM, GRU, Linear) with
    dynamic axes and no initial states at opset 17;
  - single LSTM, GRU and RNN nodes written with onnx.helper for what the
    exporter never writes (sequence_lens, layout 1), with the weights of a
    torch module and the outputs of that module run on a packed sequence
    (torch.nn.utils.rnn.pack_padded_sequence with the same lengths);
  - ort_*: single nodes with what PyTorch has no counterpart for (the other
    activation functions with activation_alpha/beta, clip, peepholes,
    input_forget, GRU without linear_before_reset, reverse, zero lengths,
    absent optional inputs and outputs, opset 7), random weights, and
    outputs written by onnxruntime (scripts/ort_run.js --write; its CPU
    kernels have no layout 1, which the torch cases cover).

Run with Debian's interpreter, which has torch 1.13 and onnx:

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_rnn_reference.py

(--ort names the node_modules folder holding onnxruntime-node; default
.tools/node_modules) and cross-check the torch folders of layout 0 with it:

    NODE_PATH=.tools/node_modules node scripts/ort_run.js infer/testdata/rnn/*
"""

import argparse
import os
import shutil
import subprocess

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from torchref import REPO, write_pb

# Gate blocks of PyTorch's weights in ONNX's order: LSTM i,f,g,o -> i,o,f,c;
# GRU r,z,n -> z,r,h.
GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}


def write_sets(folder, sets):
    """sets: a list of (inputs, outputs), each a list of (name, array)."""
    for i, (ins, outs) in enumerate(sets):
        d = os.path.join(folder, "test_data_set_%d" % i)
        os.makedirs(d, exist_ok=True)
        for j, (name, a) in enumerate(ins):
            write_pb(os.path.join(d, "input_%d.pb" % j), a, name)
        for j, (name, a) in enumerate(outs):
            write_pb(os.path.join(d, "output_%d.pb" % j), a, name)


def exported(out, name, module, opset, batch_first, states):
    """Exports module at opset and runs it on two inputs of different sizes."""
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    m = module.eval()
    layers = m.num_layers * (2 if m.bidirectional else 1)

    def inputs(batch, seq):
        shape = (batch, seq, m.input_size) if batch_first else (seq, batch, m.input_size)
        x = torch.randn(*shape)
        h = [torch.randn(layers, batch, m.hidden_size) for _ in range(states)]
        return x, h

    x, h = inputs(2, 4)
    args = (x, tuple(h)) if states == 2 else (x, h[0])
    in_names = ["x"] + ["h0", "c0"][:states]
    out_names = ["y"] + ["hn", "cn"][:states]
    seq_axis, batch_axis = (1, 0) if batch_first else (0, 1)
    axes = {"x": {batch_axis: "N", seq_axis: "T"}, "y": {batch_axis: "N", seq_axis: "T"}}
    for n in in_names[1:] + out_names[1:]:
        axes[n] = {1: "N"}
    torch.onnx.export(m, args, os.path.join(folder, "model.onnx"), opset_version=opset,
                      input_names=in_names, output_names=out_names, dynamic_axes=axes)
    onnx.checker.check_model(onnx.load(os.path.join(folder, "model.onnx")))
    sets = []
    for batch, seq in [(2, 4), (3, 6)]:
        x, h = inputs(batch, seq)
        with torch.no_grad():
            y, hn = m(x, tuple(h) if states == 2 else h[0])
        hn = list(hn) if states == 2 else [hn]
        ins = [(n, t.numpy()) for n, t in zip(in_names, [x] + h)]
        outs = [(n, t.numpy()) for n, t in zip(out_names, [y] + hn)]
        sets.append((ins, outs))
    write_sets(folder, sets)


class Stacked(torch.nn.Module):
    """Linear, a 2-layer bidirectional batch_first LSTM (dropout between the
    layers, off in eval) without initial states, a GRU on its output and a
    Linear on the GRU's last step: the exporter computes the zero initial
    states from the input's dynamic shape."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Linear(5, 6)
        self.lstm = torch.nn.LSTM(6, 7, num_layers=2, bidirectional=True, batch_first=True, dropout=0.3)
        self.gru = torch.nn.GRU(14, 4, batch_first=True)
        self.head = torch.nn.Linear(4, 3)

    def forward(self, x):                       # x: N x T x 5
        y, _ = self.lstm(torch.tanh(self.emb(x)))  # N x T x 14
        z, h = self.gru(y)                       # N x T x 4, 1 x N x 4
        return self.head(z[:, -1]), h            # N x 3, 1 x N x 4


def stacked(out, opset):
    folder = os.path.join(out, "stacked_lstm_gru_opset%d" % opset)
    os.makedirs(folder, exist_ok=True)
    m = Stacked().eval()
    torch.onnx.export(m, torch.randn(3, 6, 5), os.path.join(folder, "model.onnx"), opset_version=opset,
                      input_names=["x"], output_names=["logits", "h"],
                      dynamic_axes={"x": {0: "N", 1: "T"}, "logits": {0: "N"}, "h": {1: "N"}})
    onnx.checker.check_model(onnx.load(os.path.join(folder, "model.onnx")))
    x = torch.randn(4, 9, 5)  # other sizes than the export's
    with torch.no_grad():
        logits, h = m(x)
    write_sets(folder, [([("x", x.numpy())], [("logits", logits.numpy()), ("h", h.numpy())])])


def onnx_weights(m, kind):
    """W, R, B of a one-layer torch module in ONNX's layout and gate order."""
    H = m.hidden_size
    order = GATE_ORDER[kind]

    def reorder(t):
        t = t.detach().numpy()
        return np.concatenate([t[g * H:(g + 1) * H] for g in order])

    W, R, B = [], [], []
    for sfx in [""] + (["_reverse"] if m.bidirectional else []):
        W.append(reorder(getattr(m, "weight_ih_l0" + sfx)))
        R.append(reorder(getattr(m, "weight_hh_l0" + sfx)))
        B.append(np.concatenate([reorder(getattr(m, "bias_ih_l0" + sfx)),
                                 reorder(getattr(m, "bias_hh_l0" + sfx))]))
    return np.stack(W), np.stack(R), np.stack(B)


def node_case(out, name, kind, module, layout, lens, batch, seq, attrs):
    """One kind node with sequence_lens (and layout) and the weights of
    module, against module run on the packed sequence."""
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    m = module.eval()
    D, H, I = (2 if m.bidirectional else 1), m.hidden_size, m.input_size
    W, R, B = onnx_weights(m, kind)
    states = 2 if kind == "LSTM" else 1

    x = torch.randn(batch, seq, I)  # batch first; transposed below for layout 0
    h = [torch.randn(D, batch, H) for _ in range(states)]
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lens), batch_first=True,
                                                     enforce_sorted=False)
    with torch.no_grad():
        y, hn = m(packed, tuple(h) if states == 2 else h[0])
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=seq)
    hn = list(hn) if states == 2 else [hn]
    y = y.reshape(batch, seq, D, H).numpy()          # [batch, seq, D, H]
    if layout == 0:
        X = x.transpose(0, 1).numpy()                   # [seq, batch, I]
        Y = y.transpose(1, 2, 0, 3)                     # [seq, D, batch, H]
        S = [t.numpy() for t in h]                      # [D, batch, H]
        SN = [t.numpy() for t in hn]
    else:
        X, Y = x.numpy(), y
        S = [t.transpose(0, 1).numpy() for t in h]      # [batch, D, H]
        SN = [t.transpose(0, 1).numpy() for t in hn]

    state_names = ["initial_h", "initial_c"][:states]
    out_names = ["Y", "Y_h", "Y_c"][:states + 1]
    direction = "bidirectional" if D == 2 else "forward"
    node = helper.make_node(kind, ["X", "W", "R", "B", "sequence_lens"] + state_names, out_names,
                            name=name, hidden_size=H, direction=direction, layout=layout, **attrs)
    f = TensorProto.FLOAT
    xshape = list(X.shape)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("X", f, xshape),
         helper.make_tensor_value_info("sequence_lens", TensorProto.INT32, [batch])] +
        [helper.make_tensor_value_info(n, f, list(s.shape)) for n, s in zip(state_names, S)],
        [helper.make_tensor_value_info("Y", f, list(Y.shape))] +
        [helper.make_tensor_value_info(n, f, list(s.shape)) for n, s in zip(out_names[1:], SN)],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R"),
         numpy_helper.from_array(B, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    ins = [("X", X), ("sequence_lens", np.array(lens, dtype=np.int32))] + list(zip(state_names, S))
    write_sets(folder, [(ins, list(zip(out_names, [Y] + SN)))])


def ort_case(out, name, kind, opset, attrs, lens, inputs, outputs, rng):
    """One kind node over random data. inputs lists the optional inputs
    present among B, sequence_lens, initial_h, initial_c, P (sequence_lens
    from lens); outputs holds the output names, "" for an absent one. The
    expected outputs are left for onnxruntime to write."""
    folder = os.path.join(out, name)
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    D = 2 if attrs.get("direction") == "bidirectional" else 1
    H, I, T, N = 3, 2, 4, len(lens)
    f = TensorProto.FLOAT
    arrays = {
        "X": rng.standard_normal((T, N, I)), "W": rng.standard_normal((D, G * H, I)),
        "R": rng.standard_normal((D, G * H, H)), "B": rng.standard_normal((D, 2 * G * H)),
        "sequence_lens": np.array(lens, dtype=np.int32), "initial_h": rng.standard_normal((D, N, H)),
        "initial_c": rng.standard_normal((D, N, H)), "P": rng.standard_normal((D, 3 * H)),
    }
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
    names = [n if n in ["X", "W", "R"] + inputs else "" for n in order]
    while names[-1] == "":
        names.pop()
    arrays = {n: a if a.dtype == np.int32 else a.astype(np.float32) for n, a in arrays.items()}
    node = helper.make_node(kind, names, outputs, name=name, hidden_size=H, **attrs)
    feeds = [n for n in names if n in ("X", "sequence_lens", "initial_h", "initial_c")]
    inits = [n for n in names if n and n not in feeds]
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(n, TensorProto.INT32 if n == "sequence_lens" else f,
                                       list(arrays[n].shape)) for n in feeds],
        [helper.make_tensor_value_info(n, f, [T, D, N, H] if i == 0 else [D, N, H])
         for i, n in enumerate(outputs) if n],
        [numpy_helper.from_array(arrays[n], n) for n in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    os.makedirs(folder, exist_ok=True)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    write_sets(folder, [([(n, arrays[n]) for n in feeds], [])])
    return folder


def ort_cases(out, ort):
    rng = np.random.default_rng(1)
    bi, rev = {"direction": "bidirectional"}, {"direction": "reverse"}
    dirs = [
        ort_case(out, "ort_rnn_bidirectional_affine_leakyrelu_zero_length", "RNN", 14,
                 dict(bi, activations=["Affine", "LeakyRelu"], activation_alpha=[0.5, 0.2],
                      activation_beta=[0.1]),
                 [4, 0, 2], ["B", "sequence_lens", "initial_h"], ["Y", "Y_h"], rng),
        ort_case(out, "ort_rnn_reverse_thresholdedrelu_clip", "RNN", 14,
                 dict(rev, activations=["ThresholdedRelu"], activation_alpha=[0.1], clip=2.0),
                 [4, 3, 2], ["B", "sequence_lens", "initial_h"], ["Y", "Y_h"], rng),
        ort_case(out, "ort_rnn_scaledtanh_no_optional_inputs", "RNN", 14,
                 dict(activations=["ScaledTanh"], activation_alpha=[1.5], activation_beta=[0.7]),
                 [4, 4], [], ["Y"], rng),
        ort_case(out, "ort_gru_bidirectional_activations_clip", "GRU", 14,
                 dict(bi, activations=["HardSigmoid", "Elu", "Sigmoid", "Softsign"],
                      activation_alpha=[0.3, 0.9], activation_beta=[0.4], clip=1.5),
                 [4, 1, 3], ["B", "sequence_lens", "initial_h"], ["Y", "Y_h"], rng),
        ort_case(out, "ort_gru_reverse_linear_before_reset_softplus", "GRU", 14,
                 dict(rev, linear_before_reset=1, activations=["Sigmoid", "Softplus"]),
                 [4, 4], ["B", "initial_h"], ["", "Y_h"], rng),
        ort_case(out, "ort_gru_opset7", "GRU", 7, {}, [4, 4, 4], ["B"], ["Y", "Y_h"], rng),
        ort_case(out, "ort_lstm_reverse_peepholes_input_forget_clip", "LSTM", 14,
                 dict(rev, input_forget=1, clip=0.8),
                 [4, 2, 3], ["B", "sequence_lens", "initial_h", "initial_c", "P"], ["", "Y_h", "Y_c"], rng),
        ort_case(out, "ort_lstm_bidirectional_activations_zero_length", "LSTM", 14,
                 dict(bi, activations=["HardSigmoid", "Tanh", "Softsign", "Sigmoid", "Relu", "Tanh"],
                      activation_alpha=[0.25], activation_beta=[0.45]),
                 [3, 0, 4], ["B", "sequence_lens", "initial_h", "initial_c", "P"], ["Y", "Y_h", "Y_c"], rng),
        ort_case(out, "ort_lstm_opset7_no_bias", "LSTM", 7, {}, [4, 4], ["P"], ["Y", "", "Y_c"], rng),
    ]
    env = dict(os.environ, NODE_PATH=ort)
    subprocess.run(["node", os.path.join(REPO, "scripts", "ort_run.js"), "--write"] + dirs,
                   env=env, check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "infer", "testdata", "rnn"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ort", default=os.path.join(REPO, ".tools", "node_modules"))
    args = p.parse_args()
    torch.manual_seed(args.seed)
    shutil.rmtree(args.out, ignore_errors=True)
    for opset in [11, 14]:
        exported(args.out, "lstm2_batch_first_opset%d" % opset,
                 torch.nn.LSTM(3, 5, num_layers=2, batch_first=True), opset, True, 2)
        exported(args.out, "gru_bidirectional_opset%d" % opset,
                 torch.nn.GRU(3, 5, bidirectional=True), opset, False, 1)
    exported(args.out, "rnn_relu_opset14", torch.nn.RNN(3, 4, nonlinearity="relu"), 14, False, 1)
    # PyTorch's GRU applies the reset gate after the product: linear_before_reset=1.
    node_case(args.out, "lstm_bidirectional_sequence_lens", "LSTM",
              torch.nn.LSTM(3, 5, bidirectional=True), 0, [3, 5, 1], 3, 5, {})
    node_case(args.out, "lstm_layout1_sequence_lens", "LSTM",
              torch.nn.LSTM(3, 4), 1, [2, 4, 3], 3, 4, {})
    node_case(args.out, "gru_layout1_bidirectional_sequence_lens", "GRU",
              torch.nn.GRU(2, 4, bidirectional=True), 1, [4, 1, 3], 3, 4,
              {"linear_before_reset": 1})
    node_case(args.out, "rnn_layout1_bidirectional_sequence_lens", "RNN",
              torch.nn.RNN(2, 3, bidirectional=True), 1, [1, 3], 2, 3, {})
    stacked(args.out, 17)
    ort_cases(args.out, args.ort)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
