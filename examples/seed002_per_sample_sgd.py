"""Stochastic gradient descent one sample at a time (the seed002 tutorial).

Each step zeroes the gradients, computes the squared error of one sample, backpropagates it
and updates the weights, so every sample moves the line y = w x + b towards itself.
"""
import tapegrad
import tapegrad.nn.functional as F
from tapegrad import nn, optim

tapegrad.manual_seed(0)

model = nn.Linear(1, 1)
optimizer = optim.SGD(model.parameters(), lr=0.01)
print(f"initial parameters: w {model.weight.item():.4f}, b {model.bias.item():.4f}")

x = tapegrad.tensor([[1.0], [2.0], [3.0]])
y = x + 1  # the line to find: w = 1, b = 1

for epoch in range(5):
    for i, (x_i, y_i) in enumerate(zip(x, y)):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x_i), y_i)  # one sample: its squared error
        loss.backward()
        optimizer.step()
        print(f"epoch {epoch}, sample {i}: loss {loss.item():.6f}, "
              f"w {model.weight.item():.4f}, b {model.bias.item():.4f}")
