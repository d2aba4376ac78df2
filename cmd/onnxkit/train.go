package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/onnxkit/onnxkit/chart"
	"github.com/onnxkit/onnxkit/imagefolder"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/train"
)

var trainCmd = &command{
	name:  "train",
	args:  "",
	short: "train the tutorial's MLP, CNN or LeNet5, or the best model, or fine-tune an ONNX graph (-init), on MNIST or an image folder and export it to ONNX",
	setup: func(fs *flag.FlagSet) func([]string) error {
		model := fs.String("model", train.LeNet5, "the model: mlp, cnn, lenet5 or best (BatchNorm CNN with its own recipe: one-cycle SGD, label smoothing, random shifts, 6 epochs of 128)")
		epochs := fs.Int("epochs", 10, "number of passes over the training images (default: the model's recipe, 10; 6 for best)")
		batch := fs.Int("batch", 100, "mini-batch size (default: the model's recipe, 100; 128 for best)")
		lr := fs.Float64("lr", 0, "learning rate, the peak of best's one-cycle schedule (default: the model's recipe, 0.01 for sgd, 0.001 for adam, 0.1 for best)")
		optimizer := fs.String("optimizer", "", "sgd or adam (default: the model's recipe, sgd for mlp and best, adam otherwise)")
		seed := fs.Uint64("seed", 1, "seed for initialization, shuffling and dropout")
		data := fs.String("data", "", dataHelp)
		out := fs.String("out", "", "write the trained model to this ONNX `file` (default MODEL.onnx)")
		opset := fs.Int64("opset", 13, "ONNX opset version of the export, 11 to 18")
		normalize := fs.String("normalize", "", "normalize pixels in [0,1] torchvision-style: `MEAN,STD` (the tutorial's Normalize((0,),(128,)) is 0,128; default: none for MNIST files, the training images' mean and std for an image folder)")
		limit := fs.Int("limit", 0, "train on the first N training images only (0: all; an image folder's are in class order)")
		jsonOut := fs.Bool("json", false, "print one JSON object per epoch instead of text")
		plotPath := fs.String("plot", "", "draw the loss and test-accuracy curves per epoch to this PNG `file`")
		initFile := fs.String("init", "", "fine-tune this ONNX `file` (e.g. a PyTorch export) instead of starting from random weights; the recipe is the file's (recorded by onnxkit) or -model's, or give -optimizer and -lr; a different class count replaces the last Gemm")
		freeze := fs.String("freeze", "", "with -init: train only from this `node` on (a layer name or the file's node name, e.g. /fc/Gemm); the nodes before keep their weights and BatchNorm statistics")
		ckptFlag := fs.String("checkpoint", "", "write the training state to this `file` after every epoch and on interrupt (default: -out with .ckpt for .onnx, the -resume file when resuming; -checkpoint= for none)")
		resume := fs.String("resume", "", "continue the run saved in this checkpoint `file`, with its settings; -epochs may raise the total")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			var ck *train.Checkpoint
			if *resume != "" {
				c, err := train.ReadCheckpoint(*resume)
				if err != nil {
					return err
				}
				if err := resumeFlags(fs, given, c); err != nil {
					return err
				}
				ck = c
			}
			// A fine-tuned model (-init) brings its own graph; its recipe
			// is the one recorded in the file, -model's, or -optimizer's.
			var initModel *train.Model
			if *initFile != "" {
				om, err := onnx.ReadFile(*initFile)
				if err != nil {
					return err
				}
				if initModel, err = train.FromONNX(om); err != nil {
					return fmt.Errorf("%s: %w", *initFile, err)
				}
				if _, err := train.DefaultRecipe(initModel.Kind); err == nil && !given["model"] {
					*model = initModel.Kind
				} else if !given["model"] && !given["optimizer"] && ck == nil {
					return usagef("-init %s: the file records no recipe (metadata %s is %q); give -optimizer (and -lr) or -model", *initFile, onnx.MetaModel, initModel.Kind)
				}
				if *freeze != "" {
					if err := initModel.Freeze(*freeze); err != nil {
						return usagef("-freeze %q: %v", *freeze, err)
					}
				}
			} else if *freeze != "" {
				return usagef("-freeze needs -init")
			}
			r, err := train.DefaultRecipe(*model)
			fromOptimizer := err != nil && initModel != nil && (given["optimizer"] || ck != nil)
			if err != nil && !fromOptimizer {
				return usagef("-model %q: want mlp, cnn, lenet5 or best", *model)
			}
			if err != nil {
				r = train.Recipe{Model: initModel.Kind, Optimizer: *optimizer, LR: map[string]float64{"sgd": 0.01, "adam": 1e-3}[*optimizer]}
			}
			if *epochs <= 0 || *batch <= 0 || *limit < 0 {
				return usagef("-epochs and -batch must be positive, -limit not negative")
			}
			if *opset < 11 || *opset > 18 {
				return usagef("-opset %d: want 11 to 18", *opset)
			}
			// The recipe's epochs and batch size unless given (a resumed
			// run's flags are set from its checkpoint).
			if given["epochs"] || ck != nil {
				r.Epochs = *epochs
			}
			if given["batch"] || ck != nil {
				r.BatchSize = *batch
			}
			if *optimizer != "" {
				if *optimizer != "sgd" && *optimizer != "adam" {
					return usagef("-optimizer %q: want sgd or adam", *optimizer)
				}
				if *optimizer != r.Optimizer && *lr == 0 {
					r.LR = map[string]float64{"sgd": 0.01, "adam": 1e-3}[*optimizer]
				}
				r.Optimizer = *optimizer
			}
			if *lr < 0 {
				return usagef("-lr %v: must be positive", *lr)
			}
			if *lr > 0 {
				r.LR = *lr
			}
			norm, err := parseNormalize(*normalize)
			if err != nil {
				return err
			}
			path := *out
			if path == "" {
				path = *model + ".onnx"
				if initModel != nil {
					path = strings.TrimSuffix(filepath.Base(*initFile), ".onnx") + "-tuned.onnx"
				}
			}
			ckptPath := *ckptFlag
			if !given["checkpoint"] {
				ckptPath = strings.TrimSuffix(path, ".onnx") + ".ckpt"
				if ck != nil {
					ckptPath = *resume
				}
			}
			// Every file the run will write is checked before it starts,
			// so that a wrong path does not cost the training.
			for _, f := range [][2]string{{"out", path}, {"checkpoint", ckptPath}, {"plot", *plotPath}} {
				if f[1] == "" {
					continue
				}
				if err := checkWritable(f[1]); err != nil {
					return fmt.Errorf("-%s %s: %w", f[0], f[1], err)
				}
			}
			// The model takes its input shape and class count from the
			// data; a fine-tuned one (-init) has its own, to which an
			// image folder's images are resized.
			var opt imagefolder.Options
			if initModel != nil {
				if in := initModel.InputShape(); len(in) == 3 {
					opt = imagefolder.Options{Channels: in[0], Height: in[1], Width: in[2]}
				}
			}
			trainSet, testSet, err := loadData(*data, opt)
			if err != nil {
				return err
			}
			prepare := onnx.PrepareResize
			if _, ok := trainSet.(*mnist.Set); ok {
				prepare = onnx.PrepareDigit
			}
			if *limit > 0 && *limit < trainSet.Len() {
				trainSet = firstN{trainSet, *limit}
			}
			ch, h, w := trainSet.Shape()
			r.Input, r.Classes = [3]int{ch, h, w}, len(trainSet.Classes())
			var t *train.Trainer
			if initModel != nil {
				if n := initModel.NumClasses(); n != r.Classes {
					// As model.fc = nn.Linear(in, classes) in PyTorch.
					if err := initModel.ReplaceHead(r.Classes, *seed); err != nil {
						return fmt.Errorf("%s: %d classes in the data, %d in the model: %w", *initFile, r.Classes, n, err)
					}
					if !*jsonOut {
						fmt.Fprintf(stdout, "replaced the model's last Linear layer (%d classes) by a new one for the data's %d\n", n, r.Classes)
					}
				}
				if t, err = train.NewTrainerFor(initModel, r, *seed); err != nil {
					return err
				}
				if norm == nil {
					norm = initModel.Normalize
				}
			} else if t, err = train.NewTrainer(r, *seed); err != nil {
				return err
			}
			if norm == nil && prepare == onnx.PrepareResize {
				// An image folder is normalized with its training
				// images' statistics unless -normalize says otherwise.
				ms, err := train.MeanStd(trainSet)
				if err != nil {
					return err
				}
				norm = &ms
				if !*jsonOut {
					fmt.Fprintf(stdout, "normalizing with the training images' mean %.4g and std %.4g (-normalize MEAN,STD to choose)\n", ms.Mean, ms.Std)
				}
			}
			t.Model.Normalize = norm
			t.Model.Classes, t.Model.Prepare = trainSet.Classes(), prepare
			if ck != nil {
				if err := t.Restore(ck); err != nil {
					return fmt.Errorf("%s: %w", *resume, err)
				}
				t.Epochs = *epochs
				if !*jsonOut {
					fmt.Fprintf(stdout, "resuming %s: %s\n", *resume, ck)
				}
			}
			recipeModel := *model
			if fromOptimizer {
				recipeModel = "" // the recipe is -optimizer's and -lr's
			}
			info := map[string]string{"model": recipeModel, "out": path, "opset": strconv.FormatInt(*opset, 10), "limit": strconv.Itoa(*limit)}
			for k, v := range map[string]string{"init": *initFile, "data": *data, "freeze": *freeze} {
				if v != "" {
					info[k] = v
				}
			}
			writeCheckpoint := func() error {
				c, err := t.Checkpoint()
				if err != nil {
					return err
				}
				c.Info = info
				return c.WriteFile(ckptPath)
			}
			if *initFile != "" && !*jsonOut && ck == nil {
				res, err := train.Evaluate(context.Background(), t.Model, testSet, 0)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s before training: test accuracy %.2f%%\n", *initFile, 100*res.Accuracy)
			}
			var points []chart.Epoch
			bar := newProgress(trainSet.Len(), "training")
			t.OnBatch = bar.add
			if ck != nil && ck.Batch > 0 { // resuming within an epoch
				bar.add(min(ck.Batch*ck.Recipe.BatchSize, trainSet.Len()))
			}
			t.OnEpoch = func(st train.EpochStats) error {
				bar.done()
				if st.Epoch < st.Epochs {
					bar.reset()
					bar.describe(fmt.Sprintf("epoch %d/%d", st.Epoch+1, st.Epochs))
				}
				points = append(points, chart.Epoch{Epoch: st.Epoch, Loss: st.Loss, TestLoss: st.TestLoss, TestAccuracy: st.TestAccuracy})
				if *jsonOut {
					if err := printJSON(map[string]any{"epoch": st.Epoch, "epochs": st.Epochs, "loss": st.Loss,
						"test_accuracy": st.TestAccuracy, "seconds": st.Duration.Seconds()}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(stdout, "epoch %d/%d: loss %.4f, test accuracy %.2f%%, %.1fs\n",
						st.Epoch, st.Epochs, st.Loss, 100*st.TestAccuracy, st.Duration.Seconds())
				}
				if ckptPath != "" {
					return writeCheckpoint()
				}
				return nil
			}
			// An interrupt stops Fit after the batch in progress; a second
			// one, once stop has restored the default, kills the process
			// (the checkpoint and -out files are written atomically).
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			start := time.Now()
			err = t.Fit(ctx, trainSet, testSet)
			stop()
			if err != nil {
				bar.done() // clear the bar before the message
			}
			if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
				return interrupted(t, trainSet.Len(), ckptPath, writeCheckpoint, info)
			}
			if err != nil {
				return err
			}
			if err := t.Model.WriteONNX(path, train.ExportOptions{Opset: *opset}); err != nil {
				return err
			}
			if *plotPath != "" {
				on := "MNIST"
				if *data != "" {
					on = filepath.Base(*data)
				}
				img, err := chart.Curves(points, t.Model.Kind+" on "+on)
				if err != nil {
					return err
				}
				if err := chart.WritePNG(*plotPath, img); err != nil {
					return err
				}
				if !*jsonOut {
					fmt.Fprintf(stdout, "wrote %s\n", *plotPath)
				}
			}
			if *jsonOut {
				return printJSON(map[string]any{"wrote": path, "model": t.Model.Kind, "opset": *opset, "seconds": time.Since(start).Seconds()})
			}
			fmt.Fprintf(stdout, "wrote %s (%s, opset %d) after %.1fs\n", path, t.Model.Kind, *opset, time.Since(start).Seconds())
			return nil
		}
	},
}

// interrupted writes the checkpoint of a run stopped by an interrupt and
// returns the error that tells how to resume it.
func interrupted(t *train.Trainer, n int, path string, write func() error, info map[string]string) error {
	c, err := t.Checkpoint()
	if err != nil {
		return err
	}
	where := fmt.Sprintf("after epoch %d", c.Epoch)
	if c.Batch > 0 {
		where = fmt.Sprintf("in epoch %d after batch %d of %d", c.Epoch+1, c.Batch, (n+c.Recipe.BatchSize-1)/c.Recipe.BatchSize)
	}
	if path == "" {
		return interruptedError{fmt.Errorf("interrupted %s; no checkpoint written (-checkpoint is empty)", where)}
	}
	if err := write(); err != nil {
		return interruptedError{fmt.Errorf("interrupted %s: %w", where, err)}
	}
	hint := "onnxkit train -resume " + shellQuote(path)
	for _, name := range []string{"init", "out", "data"} { // the paths resumeFlags wants repeated
		if v := info[name]; v != "" && !filepath.IsLocal(v) {
			hint += " -" + name + " " + shellQuote(v)
		}
	}
	return interruptedError{fmt.Errorf("interrupted %s; wrote checkpoint %s; resume with: %s", where, path, hint)}
}

// checkWritable reports whether a file can be created at path: its folder
// exists and a file can be made in it. Nothing is left behind.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("folder %s: %w", dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a folder")
	}
	f, err := os.CreateTemp(dir, ".onnxkit-check-*")
	if err != nil {
		return fmt.Errorf("folder %s is not writable: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// resumeFlags sets the flags a checkpoint fixes to the values its run had.
// A flag given on the command line with another value is a usage error;
// -epochs, -out, -opset and -data default to the run's.
func resumeFlags(fs *flag.FlagSet, given map[string]bool, c *train.Checkpoint) error {
	norm := ""
	if n := c.Normalize; n != nil {
		norm = strconv.FormatFloat(float64(n.Mean), 'g', -1, 32) + "," + strconv.FormatFloat(float64(n.Std), 'g', -1, 32)
	}
	model := c.Info["model"]
	if model == "" {
		model = c.Recipe.Model
	}
	fixed := [][2]string{
		{"model", model},
		{"optimizer", c.Recipe.Optimizer},
		{"lr", strconv.FormatFloat(c.Recipe.LR, 'g', -1, 64)},
		{"batch", strconv.Itoa(c.Recipe.BatchSize)},
		{"seed", strconv.FormatUint(c.Seed, 10)},
		{"normalize", norm},
		{"init", c.Info["init"]},
		{"limit", cmp.Or(c.Info["limit"], "0")},
		{"freeze", c.Info["freeze"]},
	}
	for _, f := range fixed {
		name, want := f[0], f[1]
		if given[name] && !sameFlag(name, fs.Lookup(name).Value.String(), want) {
			return usagef("-%s %s: the checkpoint's run has -%s %q; leave -%s out when resuming", name, fs.Lookup(name).Value, name, want, name)
		}
		if err := fs.Set(name, want); err != nil {
			return fmt.Errorf("checkpoint: -%s %q: %v", name, want, err)
		}
	}
	// A checkpoint is a file from anywhere: the paths it records are used
	// only when they stay inside the working folder, or when the command
	// line repeats them.
	for _, name := range []string{"init", "out", "data"} {
		if v := c.Info[name]; v != "" && !given[name] && !filepath.IsLocal(v) {
			return fmt.Errorf("checkpoint: its run has -%s %q, outside the working folder; give -%s again to use it", name, v, name)
		}
	}
	defaults := [][2]string{
		{"epochs", strconv.Itoa(c.Recipe.Epochs)},
		{"out", c.Info["out"]},
		{"opset", c.Info["opset"]},
		{"data", c.Info["data"]},
	}
	for _, f := range defaults {
		if name, v := f[0], f[1]; !given[name] && v != "" {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("checkpoint: -%s %q: %v", name, v, err)
			}
		}
	}
	return nil
}

// sameFlag reports whether two spellings of a flag's value mean the same.
func sameFlag(name, a, b string) bool {
	if a == b {
		return true
	}
	switch name {
	case "lr":
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		return err1 == nil && err2 == nil && x == y
	case "normalize":
		x, err1 := parseNormalize(a)
		y, err2 := parseNormalize(b)
		return err1 == nil && err2 == nil && x != nil && y != nil && *x == *y
	}
	return false
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+,:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseNormalize reads the -normalize flag: "MEAN,STD", or "" for none.
func parseNormalize(s string) (*train.Normalize, error) {
	if s == "" {
		return nil, nil
	}
	ms, ss, ok := strings.Cut(s, ",")
	mean, err1 := strconv.ParseFloat(strings.TrimSpace(ms), 32)
	std, err2 := strconv.ParseFloat(strings.TrimSpace(ss), 32)
	if !ok || err1 != nil || err2 != nil || (onnx.Preprocess{Mean: float32(mean), Std: float32(std)}).Check() != nil {
		return nil, usagef("-normalize %q: want MEAN,STD, finite numbers with STD > 0, e.g. 0.1307,0.3081", s)
	}
	return &train.Normalize{Mean: float32(mean), Std: float32(std)}, nil
}
