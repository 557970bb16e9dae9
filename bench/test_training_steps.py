"""Whole training steps: forward, loss, backward, optimizer step and zero_grad."""
import numpy as np
import pytest


@pytest.mark.benchmark(group="seed000 step (W*x+b, sigmoid, mse_loss, SGD)")
def test_seed000_step(benchmark, lib):
    F = lib.nn.functional
    x = lib.tensor([2.0])
    W = lib.tensor([0.5], requires_grad=True)
    b = lib.tensor([0.3], requires_grad=True)
    y_true = lib.tensor([1.0])
    optimizer = lib.optim.SGD([W, b], lr=0.1)

    def step():
        a = lib.sigmoid(W * x + b)
        loss = F.mse_loss(a, y_true)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    benchmark(step)


def classification_step(lib, model, optimizer, x, y):
    """One step of cross-entropy training of model on (x, y)."""
    def step():
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def mlp_step(lib, sizes, batch):
    rng = np.random.default_rng(0)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [lib.nn.Linear(fan_in, fan_out), lib.nn.ReLU()]
    model = lib.nn.Sequential(*layers[:-1])
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = lib.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    y = lib.tensor(rng.integers(0, sizes[-1], size=batch))
    return classification_step(lib, model, optimizer, x, y)


@pytest.mark.benchmark(group="MLP 784-256-10 step, batch 64")
def test_mlp_small(benchmark, lib):
    benchmark(mlp_step(lib, [784, 256, 10], 64))


@pytest.mark.benchmark(group="MLP 784-1024-10 step, batch 256")
def test_mlp_wide(benchmark, lib):
    benchmark(mlp_step(lib, [784, 1024, 10], 256))


@pytest.mark.benchmark(group="MLP 1024-4096-4096-10 step, batch 512")
def test_mlp_large(benchmark, lib):
    # About 64 GFLOP a step: a few rounds keep the suite to minutes.
    benchmark.pedantic(mlp_step(lib, [1024, 4096, 4096, 10], 512), rounds=5, warmup_rounds=1)


@pytest.mark.benchmark(group="small CNN step (conv-bn-relu-maxpool-conv-relu-avgpool-linear), 32x3x32x32")
def test_small_cnn(benchmark, lib):
    nn = lib.nn
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(32, 10))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = lib.tensor(rng.standard_normal((32, 3, 32, 32)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, size=32))
    benchmark(classification_step(lib, model, optimizer, x, y))



@pytest.mark.benchmark(group="makemore MLP step (embedding, linear, BatchNorm1d, tanh, linear), batch 32")
def test_makemore_mlp(benchmark, lib):
    nn = lib.nn
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Embedding(27, 10), nn.Flatten(), nn.Linear(30, 200, bias=False), nn.BatchNorm1d(200),
                          nn.Tanh(), nn.Linear(200, 27))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.tensor(rng.integers(0, 27, size=(32, 3)))
    y = lib.tensor(rng.integers(0, 27, size=32))
    benchmark(classification_step(lib, model, optimizer, x, y))


class CharLM:
    """A character language model's step: embedding, a sequence model (module `body`, applied by `run`), a linear
    head, cross-entropy over every position, AdamW. 65 symbols, width 128, batch 32 of 64 steps."""
    VOCAB, WIDTH, BATCH, STEPS = 65, 128, 32, 64

    def __init__(self, lib, body, run):
        nn = lib.nn
        rng = np.random.default_rng(0)
        self.lib, self.run = lib, run
        self.embed, self.head = nn.Embedding(self.VOCAB, self.WIDTH), nn.Linear(self.WIDTH, self.VOCAB)
        self.optimizer = lib.optim.AdamW(nn.ModuleList([self.embed, body, self.head]).parameters(), lr=1e-3)
        self.x = lib.tensor(rng.integers(0, self.VOCAB, size=(self.BATCH, self.STEPS)))
        self.y = lib.tensor(rng.integers(0, self.VOCAB, size=(self.BATCH * self.STEPS,)))

    def __call__(self):
        logits = self.head(self.run(self.embed(self.x)))
        loss = self.lib.nn.functional.cross_entropy(logits.reshape(-1, self.VOCAB), self.y)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()


@pytest.mark.benchmark(group="char LM step: embedding, LSTM 128, linear, AdamW; 32x64 tokens")
def test_lstm_language_model(benchmark, lib):
    lstm = lib.nn.LSTM(CharLM.WIDTH, CharLM.WIDTH, batch_first=True)
    benchmark(CharLM(lib, lstm, lambda x: lstm(x)[0]))


@pytest.mark.benchmark(group="char LM step: embedding, 2 causal Transformer layers (4 heads), linear, AdamW; "
                             "32x64 tokens")
def test_transformer_language_model(benchmark, lib):
    nn = lib.nn
    layer = nn.TransformerEncoderLayer(CharLM.WIDTH, 4, 4 * CharLM.WIDTH, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    mask = nn.Transformer.generate_square_subsequent_mask(CharLM.STEPS)
    benchmark(CharLM(lib, encoder, lambda x: encoder(x, mask=mask, is_causal=True)))
