// A model of one's own: a 3-layer GCN whose middle layer adds its input back (a residual connection).
import { Module, GCNConv, Dropout, ops } from 'webgnn';

export class ResidualGCN extends Module {
  constructor(inChannels, hidden, classes, p = 0.5) {
    super();
    this.conv1 = new GCNConv(inChannels, hidden);
    this.conv2 = new GCNConv(hidden, hidden);
    this.conv3 = new GCNConv(hidden, classes);
    this.dropout = new Dropout(p);
  }

  async forward(graph, x) {
    const h1 = ops.relu(await this.conv1.forward(graph, this.dropout.forward(graph, x)));
    const h2 = ops.relu(ops.add(await this.conv2.forward(graph, this.dropout.forward(graph, h1)), h1));
    return this.conv3.forward(graph, this.dropout.forward(graph, h2));
  }
}

// For the command line: `npx webgnn train --model examples/models/residual-gcn.mjs --mode sar --workers 4`
// calls the default export with the run's widths.
export default ({ inChannels, hiddenChannels, outChannels, dropout }) => new ResidualGCN(inChannels, hiddenChannels, outChannels, dropout);
