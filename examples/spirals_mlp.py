"""Classify two interleaved spirals with a small MLP.

Generates 1000 noisy points on two spiral arms, holds out 20% for testing, and trains a
2-64-64-2 tanh network with Adam and cross-entropy on shuffled mini-batches. Prints the
loss per epoch and the train/test accuracy, and with matplotlib installed writes the loss
curve and the decision boundary as PNGs.

    python examples/spirals_mlp.py [--epochs 100] [--out FOLDER]
"""
import argparse
import math
import pathlib

import tapegrad
from tapegrad import nn, optim
from tapegrad.utils.data import DataLoader, TensorDataset, random_split


def two_spirals(n_per_class, noise=0.05):
    """Points on two arms of 1.5 turns, one the other turned by 180 degrees, scaled into [-1, 1]."""
    theta = tapegrad.sqrt(tapegrad.rand(n_per_class)) * 3 * math.pi  # sqrt spreads points evenly along the arm
    arm = tapegrad.stack([theta * tapegrad.cos(theta), theta * tapegrad.sin(theta)], dim=1) / (3 * math.pi)
    points = tapegrad.cat([arm, -arm]) + noise * tapegrad.randn(2 * n_per_class, 2)
    labels = tapegrad.cat([tapegrad.zeros(n_per_class, dtype=tapegrad.int64),
                           tapegrad.ones(n_per_class, dtype=tapegrad.int64)])
    return points, labels


def accuracy(model, dataset):
    points, labels = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    with tapegrad.no_grad():
        return (model(points).argmax(dim=1) == labels).float().mean().item()


def save_plots(losses, model, points, labels, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        print("install matplotlib to get the loss curve and decision boundary plots: pip install matplotlib")
        return
    fig, ax = plt.subplots()
    ax.plot(range(1, len(losses) + 1), losses)
    ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="two spirals: loss")
    fig.savefig(out / "spirals_loss.png")

    grid = np.linspace(-1.3, 1.3, 300, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    with tapegrad.no_grad():
        logits = model(tapegrad.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)))
    prob = tapegrad.softmax(logits, dim=1)[:, 1].numpy().reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.contourf(gx, gy, prob, levels=20, cmap="RdBu", alpha=0.6)
    ax.scatter(points[:, 0].numpy(), points[:, 1].numpy(), c=labels.numpy(), cmap="RdBu", s=6, edgecolors="k",
               linewidths=0.2)
    ax.set(title="two spirals: decision boundary", aspect="equal")
    fig.savefig(out / "spirals_boundary.png")
    print(f"wrote {out / 'spirals_loss.png'} and {out / 'spirals_boundary.png'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."), help="folder for the plots")
    args = parser.parse_args()

    tapegrad.manual_seed(0)
    points, labels = two_spirals(500)
    train_set, test_set = random_split(TensorDataset(points, labels), [0.8, 0.2])
    loader = DataLoader(train_set, batch_size=64, shuffle=True)

    model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()

    losses = []
    for epoch in range(args.epochs):
        total = 0.0
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        losses.append(total / len(train_set))
        if (epoch + 1) % 10 == 0 or epoch == 0:
            print(f"epoch {epoch + 1:3d}: loss {losses[-1]:.4f}")

    print(f"train accuracy: {accuracy(model, train_set):.1%}")
    print(f"test accuracy: {accuracy(model, test_set):.1%}")
    args.out.mkdir(parents=True, exist_ok=True)
    save_plots(losses, model, points, labels, args.out)


if __name__ == "__main__":
    main()
