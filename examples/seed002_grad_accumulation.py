"""Linear regression with gradient accumulation (the seed002 tutorial).

Mini-batches of 2 come from a DataLoader; their gradients add up in .grad over
`accumulation_steps` batches before one optimizer step, which acts like a larger batch.
"""
import tapegrad
from tapegrad import nn, optim
from tapegrad.utils.data import DataLoader, TensorDataset

tapegrad.manual_seed(0)

x_train = tapegrad.tensor([[1.0], [2.0], [3.0], [4.0], [5.0]])
y_train = 2 * x_train  # the line to find: w = 2, b = 0
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=2)

model = nn.Linear(1, 1)
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)
accumulation_steps = 2
print(f"initial parameters: w: {model.weight.item():.4f}, b: {model.bias.item():.4f}")

epochs = 5
for epoch in range(epochs):
    optimizer.zero_grad()  # a left-over partial accumulation does not carry into the next epoch
    for step, (x_batch, y_batch) in enumerate(loader, start=1):
        loss = criterion(model(x_batch), y_batch)
        loss.backward()  # adds this batch's gradient to .grad
        if step % accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
    print(f"epoch [{epoch + 1}/{epochs}], loss: {loss.item():.4f}")

print(f"final parameters: w: {model.weight.item():.4f}, b: {model.bias.item():.4f}")
