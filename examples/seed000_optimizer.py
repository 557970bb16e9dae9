"""One optimizer step on a single sigmoid neuron (the seed000 tutorial, with tapegrad.optim).

Forward: z = W * x + b, a = sigmoid(z), loss = mse(a, y). backward() fills W.grad and b.grad;
optimizer.step() applies the SGD update and zero_grad() clears the gradients.
"""
import tapegrad
import tapegrad.nn.functional as F
from tapegrad import optim

x = tapegrad.tensor([2.0])
W = tapegrad.tensor([0.5], requires_grad=True)
b = tapegrad.tensor([0.3], requires_grad=True)
y_true = tapegrad.tensor([1.0])

optimizer = optim.SGD([W, b], lr=0.1)

z = W * x + b
a = tapegrad.sigmoid(z)
loss = F.mse_loss(a, y_true)
print(f"forward: z = {z.item():.4f}, a = {a.item():.4f}, loss = {loss.item():.4f}")

loss.backward()
print(f"gradient of W: {W.grad.item():.4f}")
print(f"gradient of b: {b.grad.item():.4f}")

optimizer.step()
optimizer.zero_grad()
print(f"updated W: {W.item():.5f}, updated b: {b.item():.5f}")
