"""Names and defaults every benchmark module shares: the implementations, the operations, the MLP head."""

IMPLS = ("fastact", "numpy", "torch")
OPS = ("forward", "backward", "step")
N_CLASSES = 10
SGD_LR = 0.01


def _check_choice(name, value, valid):
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(valid)}. Received: {name}={value!r}")
