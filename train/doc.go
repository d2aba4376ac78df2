// Package train trains neural networks natively in Go (the MNIST tutorial's
// MLP, small CNN and LeNet-5, Best, a BatchNorm CNN with its own recipe, graphs of one's own such as residual CNNs,
// and PyTorch exports read by FromONNX) and exports them to ONNX.
//
// A Model is a graph: NewModel chains layers, NewGraph takes Nodes that
// apply a Layer to a named value or Combine several with a Join (Add,
// Concat), checking that shapes fit. Backward sums the gradients of a value
// read by several nodes. Each layer knows its ONNX form, and FromONNX has
// one builder per ONNX op (the onnxBuilders map), so Export and FromONNX
// are loops over the graph.
//
// Layers are Forward/Backward pairs over float32 tensors in NCHW layout
// (Linear, Conv2d with stride, padding, dilation and groups, MaxPool2d,
// AvgPool2d, GlobalAvgPool, BatchNorm2d, ReLU, Tanh, Dropout, Flatten);
// CrossEntropyLoss (with label smoothing), SGD, Adam, AdamW and the
// learning-rate schedules (StepLR, CosineLR, OneCycleLR) follow PyTorch's
// definitions and defaults,
// and parameters carry PyTorch's state_dict names ("conv1.weight"), so
// weights and gradients can be compared with PyTorch's tensor by tensor.
//
// Heavy arithmetic goes through kernel.Sgemm (convolutions as im2col plus
// one matrix multiply per chunk of samples). Work over a batch is split into
// chunks whose size depends only on the batch size and run on up to
// GOMAXPROCS goroutines; per-chunk partial sums are added in chunk order, so
// the same seed gives bit-identical results with any number of goroutines.
// Buffers are sized to the batch on first use and reused: a training step
// does not allocate in steady state.
//
// Trainer.Fit runs the recipes (DefaultRecipe) on a Dataset, with an
// optional per-batch Schedule and seeded Augment;
// Model.Export builds the *onnx.Model that torch.onnx.export would write,
// with the preprocessing recorded in metadata_props.
//
// A run can stop and go on: Trainer.Checkpoint records the parameters, the
// optimizer's state, the shuffle and Dropout random streams and the position
// (epoch and batch) between any two batches; Checkpoint.WriteFile stores it
// atomically and ReadCheckpoint reads it back, checking every size (safe on
// untrusted files). After Trainer.Restore, Fit continues to bit for bit the
// weights of a run that never stopped.
package train
