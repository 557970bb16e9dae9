"""One gradient-descent step on a single sigmoid neuron (the seed000 tutorial).

Forward: z = W * x + b, a = sigmoid(z), loss = (a - y)^2. Backward fills W.grad and
b.grad; the update runs under no_grad so it is not recorded.
"""
import tapegrad

tapegrad.manual_seed(1)

x = tapegrad.tensor([2.0])
W = tapegrad.tensor([0.5], requires_grad=True)
b = tapegrad.tensor([0.3], requires_grad=True)
y_true = tapegrad.tensor([1.0])

z = W * x + b
a = tapegrad.sigmoid(z)
loss = ((a - y_true) ** 2).mean()
print(f"forward: z = {z.item():.4f}, a = {a.item():.4f}, loss = {loss.item():.4f}")

loss.backward()
print(f"gradient of W: {W.grad.item():.4f}")
print(f"gradient of b: {b.grad.item():.4f}")

learning_rate = 0.1
with tapegrad.no_grad():
    W -= learning_rate * W.grad
    b -= learning_rate * b.grad
W.grad.zero_()
b.grad.zero_()
print(f"updated W: {W.item():.5f}, updated b: {b.item():.5f}")
