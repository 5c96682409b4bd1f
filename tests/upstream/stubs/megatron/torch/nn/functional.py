"""torch.nn.functional stand-in: the activations TransformerConfig names as defaults."""


def gelu(x, approximate="none"):
    raise NotImplementedError("stand-in")


def silu(x):
    raise NotImplementedError("stand-in")


def relu(x):
    raise NotImplementedError("stand-in")


def sigmoid(x):
    raise NotImplementedError("stand-in")


def softmax(x, dim=None):
    raise NotImplementedError("stand-in")
