"""End to end: a character-level LSTM language model and a small Transformer language model, written as one
would for PyTorch, trained a few steps in both libraries from the same seed; the losses must agree."""
import warnings

import numpy as np
import torch

import tapegrad

TEXT = "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. " * 3


def _batches(lib, seq_len=12, batch=4, steps=6):
    """(inputs, targets) windows of TEXT's character ids, the same in both libraries."""
    vocab = sorted(set(TEXT))
    ids = np.array([vocab.index(c) for c in TEXT])
    rng = np.random.default_rng(0)
    for _ in range(steps):
        starts = rng.integers(0, len(ids) - seq_len - 1, batch)
        window = np.stack([ids[s:s + seq_len + 1] for s in starts])
        yield lib.tensor(window[:, :-1]), lib.tensor(window[:, 1:])


def char_lstm_losses(lib):
    nn = lib.nn

    class CharLSTM(nn.Module):
        def __init__(self, vocab_size, hidden=32):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, 16)
            self.lstm = nn.LSTM(16, hidden, num_layers=2, batch_first=True, dropout=0.1)
            self.head = nn.Linear(hidden, vocab_size)

        def forward(self, x, state=None):
            out, state = self.lstm(self.embed(x), state)
            return self.head(out), state

    lib.manual_seed(0)
    vocab_size = len(set(TEXT))
    model = CharLSTM(vocab_size)
    model.eval()  # dropout draws differ between the libraries; eval keeps the run deterministic
    opt = lib.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for x, y in _batches(lib):
        opt.zero_grad()
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, vocab_size), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses


def transformer_losses(lib):
    nn = lib.nn

    class TinyTransformerLM(nn.Module):
        def __init__(self, vocab_size, d_model=16, seq_len=12):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, d_model)
            self.pos = nn.Parameter(lib.randn(seq_len, d_model) * 0.1)
            layer = nn.TransformerEncoderLayer(d_model, 4, 32, dropout=0.0, batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2)
            self.head = nn.Linear(d_model, vocab_size)
            self.register_buffer("causal", lib.triu(lib.full((seq_len, seq_len), float("-inf")), 1))

        def forward(self, x):
            h = self.embed(x) + self.pos[: x.size(1)]
            return self.head(self.encoder(h, mask=self.causal, is_causal=True))

    lib.manual_seed(0)
    vocab_size = len(set(TEXT))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the encoder's nested-tensor notice
        model = TinyTransformerLM(vocab_size)
    opt = lib.optim.AdamW(model.parameters(), lr=0.01)
    losses = []
    for x, y in _batches(lib):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x).reshape(-1, vocab_size), y.reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_char_lstm_language_model_trains_like_torch():
    ours, ref = char_lstm_losses(tapegrad), char_lstm_losses(torch)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    assert ref[-1] < ref[0]


def test_transformer_language_model_trains_like_torch():
    ours, ref = transformer_losses(tapegrad), transformer_losses(torch)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    assert ref[-1] < ref[0]
