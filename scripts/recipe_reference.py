#!/usr/bin/python3
"""Dumps PyTorch's learning-rate schedules, AdamW steps and label-smoothed
cross-entropy, for checking the Go recipe options (train/schedule.go,
train/optim.go, train/loss.go) number by number.

    /usr/bin/python3 scripts/recipe_reference.py

writes testdata/pytorch/recipe.json (--out) with:

    schedules   for each case: the torch.optim.lr_scheduler and its settings,
                total steps, and the learning rate (and SGD momentum) of each
                step, read from the optimizer before each optimizer.step(), the
                scheduler stepped after it (once per batch)
    adamw       initial weights, the gradients of 3 steps, and the weights
                after each torch.optim.AdamW step
    smoothing   logits [N,K], labels, label_smoothing, the mean loss of
                nn.CrossEntropyLoss(label_smoothing=e) and d loss / d logits
"""

import argparse
import json
import os
import sys

import torch
import torch.nn as nn

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_schedule(make, total, lr=0.1, momentum=0.9):
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
    sched = make(opt)
    lrs, moms = [], []
    for _ in range(total):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g["momentum"])
        p.grad = torch.ones(1)
        opt.step()
        sched.step()
    return lrs, moms


def schedules():
    S = torch.optim.lr_scheduler
    out = []
    for total in (20, 7, 469 * 6):
        lrs, moms = run_schedule(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=total), total)
        out.append({"name": "onecycle", "max_lr": 0.1, "total": total, "lr": lrs, "momentum": moms})
    lrs, _ = run_schedule(lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=30, pct_start=0.25, div_factor=10,
                                                 final_div_factor=100, base_momentum=0.8, max_momentum=0.9), 30)
    out.append({"name": "onecycle", "max_lr": 0.05, "total": 30, "pct_start": 0.25, "div_factor": 10,
                "final_div_factor": 100, "base_momentum": 0.8, "max_momentum": 0.9, "lr": lrs})
    lrs, _ = run_schedule(lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.001), 21)
    out.append({"name": "cosine", "lr0": 0.1, "min": 0.001, "total": 20, "lr": lrs})
    lrs, _ = run_schedule(lambda o: S.StepLR(o, step_size=7, gamma=0.1), 20)
    out.append({"name": "step", "lr0": 0.1, "every": 7, "gamma": 0.1, "total": 20, "lr": lrs})
    return out


def adamw():
    g = torch.Generator().manual_seed(1)
    w0 = torch.randn(12, generator=g)
    grads = [torch.randn(12, generator=g) for _ in range(3)]
    p = nn.Parameter(w0.clone())
    opt = torch.optim.AdamW([p], lr=0.01, weight_decay=0.1)
    after = []
    for gr in grads:
        p.grad = gr.clone()
        opt.step()
        after.append(p.detach().clone().tolist())
    return {"lr": 0.01, "weight_decay": 0.1, "init": w0.tolist(), "grads": [x.tolist() for x in grads], "after": after}


def smoothing():
    g = torch.Generator().manual_seed(2)
    logits = (3 * torch.randn(4, 5, generator=g)).requires_grad_()
    labels = torch.tensor([0, 3, 4, 1])
    cases = []
    for e in (0.0, 0.1, 0.3, 1.0):
        logits.grad = None
        loss = nn.CrossEntropyLoss(label_smoothing=e)(logits, labels)
        loss.backward()
        cases.append({"label_smoothing": e, "loss": loss.item(), "grad": logits.grad.flatten().tolist()})
    return {"logits": logits.detach().flatten().tolist(), "shape": [4, 5], "labels": labels.tolist(), "cases": cases}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "testdata", "pytorch", "recipe.json"))
    args = ap.parse_args()
    ref = {"torch": torch.__version__, "schedules": schedules(), "adamw": adamw(), "smoothing": smoothing()}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
