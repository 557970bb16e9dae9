from .activation import (
    CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU,
    ReLU6, Sigmoid, SiLU, Softmax, Softmax2d, Softmin, Softplus, Softsign, Tanh, Tanhshrink, Threshold,
)
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout, Dropout1d, Dropout2d
from .flatten import Flatten, Unflatten
from .fold import Fold, Unfold
from .linear import Bilinear, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .loss import (
    CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, MarginRankingLoss,
    MultiLabelMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss, SoftMarginLoss,
    TripletMarginLoss, TripletMarginWithDistanceLoss,
)
from .module import Module
from .instancenorm import InstanceNorm1d, InstanceNorm2d
from .normalization import GroupNorm, LayerNorm, RMSNorm
from .padding import ConstantPad1d, ConstantPad2d, ZeroPad1d, ZeroPad2d
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
    MaxPool2d,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding, EmbeddingBag
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .transformer import (MultiheadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)

__all__ = [
    "Module", "Identity", "Linear", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "Flatten", "ReLU", "LeakyReLU",
    "Sigmoid", "Tanh", "GELU", "SiLU", "ELU", "Softplus", "Hardtanh", "ReLU6", "LogSigmoid", "Mish", "Softmax", "Softmin", "LogSoftmax", "Dropout", "Embedding", "EmbeddingBag", "LayerNorm",
    "BatchNorm1d", "BatchNorm2d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "MSELoss", "L1Loss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer",
    "Conv1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "ConstantPad1d",
    "ConstantPad2d", "ZeroPad1d", "ZeroPad2d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
    "PixelUnshuffle", "Unflatten", "Fold", "Unfold",
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "RMSNorm", "Dropout1d", "Dropout2d",
    "PReLU", "GLU", "Softsign", "Tanhshrink", "Threshold", "Hardswish", "Hardsigmoid", "CELU", "SELU", "Softmax2d",
    "CosineSimilarity", "PairwiseDistance", "Bilinear",
]
__all__ += ["ConvTranspose1d", "ConvTranspose2d"]
__all__ += [
    "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "HuberLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiLabelMarginLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss",
]
__all__ += ["ParameterDict"]

# Padding modes, shrinkage and random activations, unpooling, LP pooling, LRN and alpha dropout.
from .activation import Hardshrink, RReLU, Softshrink
from .dropout import AlphaDropout, Dropout3d, FeatureAlphaDropout
from .normalization import LocalResponseNorm
from .padding import (
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
    ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad3d,
)
from .pooling import LPPool1d, LPPool2d, MaxUnpool1d, MaxUnpool2d
from .linear import LazyLinear

__all__ += [
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad3d", "ZeroPad3d",
    "Hardshrink", "Softshrink", "RReLU", "MaxUnpool1d", "MaxUnpool2d", "LPPool1d", "LPPool2d", "LocalResponseNorm",
    "AlphaDropout", "FeatureAlphaDropout", "Dropout3d", "LazyLinear",
]
