"""The built-in studies, as the TOML specs a user would write (`fastact study --list`).

``seed`` is the classic experiment on the seed protocol; its ``[quick]`` table makes the
few-minute version (``--quick``).
"""

from __future__ import annotations

SEED = '''\
# The classic experiment on the seed protocol: an MLP 784-512-10 (one hidden layer of 512),
# Adam with lr 1e-3, batch 128, 10 epochs, 10% of the training file held out for validation.
#
# Validation split: drawn with each run's seed (a stratified split, fastact.data.split), so
# every activation of seed s is trained on the same rows, in the same batch order, from the
# same initial weights where the shapes agree, and validated on the same rows: comparisons
# between activations are paired by seed. Each seed draws a different split.
name = "seed"
description = "the seven activations epoch by epoch, Leaky ReLU's slope 0..1, depth 1..5 for each; 5 seeds"
seeds = [0, 1, 2, 3, 4]

[base]
hidden = [512]
epochs = 10
batch_size = 128
optimizer = "adam"
lr = 0.001
val_split = 0.1

[[parts]]
name = "activations"
title = "The seven activations, epoch by epoch"
act = "all"
baseline = { act = "relu" }

[[parts]]
name = "slope"
title = "Leaky ReLU's negative slope (0 is ReLU)"
negative_slope = "0:1:0.1"
baseline = { negative_slope = 0.0 }

[[parts]]
name = "depth"
title = "Depth: 1 to 5 hidden layers of 512, for each activation"
act = "all"
depth = [1, 2, 3, 4, 5]
baseline = { depth = 1 }
within = ["act"]

# --quick: a first look in a few minutes (2 seeds, 3 epochs, fewer slopes and depths)
[quick]
seeds = [0, 1]
base.epochs = 3
parts.slope.negative_slope = "0:1:0.25"
parts.depth.depth = [1, 2, 3]
'''

BUILTINS: dict[str, str] = {"seed": SEED}
