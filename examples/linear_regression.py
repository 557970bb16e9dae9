"""Fit y = w * x by stochastic gradient descent, one sample at a time.

The seed004 tutorial script written with tapegrad's names: a forward pass, backward(),
and a manual update of w through .data, printing the gradient at every step.
"""
import tapegrad

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = tapegrad.tensor([1.0], requires_grad=True)


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


print("predict (before training)", 4, forward(4).item())
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        print("\tgrad:", x, y, w.grad.item())
        # Update the values only: .data carries no autograd history.
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    print("progress:", epoch, l.item())
print("predict (after training)", 4, forward(4).item())
