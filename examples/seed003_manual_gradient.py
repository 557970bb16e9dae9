"""Gradient descent by hand for y = w * x (the seed003 tutorial): no autograd, plain Python.

The gradient of the mean squared error, d/dw mean((w x - y)^2) = mean(2 x (w x - y)), is
written out; 100 steps of w -= 0.01 * gradient bring w from 1 to 2. With matplotlib
installed, the cost per epoch is saved as a PNG (--out picks the folder).
"""
import argparse
import pathlib

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


def cost(w):
    return sum((w * x - y) ** 2 for x, y in zip(x_data, y_data)) / len(x_data)


def gradient(w):
    return sum(2 * x * (w * x - y) for x, y in zip(x_data, y_data)) / len(x_data)


def plot(costs, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("install matplotlib to get the cost curve: pip install matplotlib")
        return
    plt.plot(range(len(costs)), costs)
    plt.xlabel("epoch")
    plt.ylabel("cost")
    plt.savefig(path)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."), help="folder for the plot")
    args = parser.parse_args()

    w = 1.0
    print("predict (before training)", 4, 4 * w)
    costs = []
    for epoch in range(100):
        costs.append(cost(w))
        w -= 0.01 * gradient(w)
        print(f"epoch {epoch}: w = {w:.6f}, cost = {costs[-1]:.6f}")
    print("predict (after training)", 4, 4 * w)
    args.out.mkdir(parents=True, exist_ok=True)
    plot(costs, args.out / "seed003_cost.png")


if __name__ == "__main__":
    main()
