from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softmin, Tanh
from .batchnorm import BatchNorm1d
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .module import Module
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = [
    "Module", "Identity", "Linear", "Sequential", "ModuleList", "ModuleDict", "Flatten", "ReLU", "LeakyReLU",
    "Sigmoid", "Tanh", "GELU", "Softmax", "Softmin", "LogSoftmax", "Dropout", "Embedding", "LayerNorm",
    "BatchNorm1d", "MSELoss", "L1Loss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
]
