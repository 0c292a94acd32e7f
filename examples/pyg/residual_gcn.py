# PyTorch Geometric's equivalent of examples/models/residual-gcn.mjs + examples/train-cora.mjs, for the line
# and import count in the README (written as PyG's examples/gcn.py is, with a third layer and the residual
# sum). Not run by the tests: PyG is not installed here.
import torch
import torch.nn.functional as F
from torch_geometric.datasets import Planetoid
from torch_geometric.nn import GCNConv

dataset = Planetoid(root='data', name='Cora')
data = dataset[0]

class ResidualGCN(torch.nn.Module):
    def __init__(self, in_channels, hidden, classes, p=0.5):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden)
        self.conv2 = GCNConv(hidden, hidden)
        self.conv3 = GCNConv(hidden, classes)
        self.p = p

    def forward(self, x, edge_index):
        h1 = F.relu(self.conv1(F.dropout(x, self.p, self.training), edge_index))
        h2 = F.relu(self.conv2(F.dropout(h1, self.p, self.training), edge_index) + h1)
        return self.conv3(F.dropout(h2, self.p, self.training), edge_index)

model = ResidualGCN(dataset.num_features, 64, dataset.num_classes)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
for epoch in range(200):
    model.train()
    optimizer.zero_grad()
    out = model(data.x, data.edge_index)
    F.cross_entropy(out[data.train_mask], data.y[data.train_mask]).backward()
    optimizer.step()
model.eval()
pred = model(data.x, data.edge_index).argmax(dim=1)
acc = (pred[data.test_mask] == data.y[data.test_mask]).float().mean()
print(f'test accuracy {100 * acc:.1f}% after {epoch + 1} epochs')
