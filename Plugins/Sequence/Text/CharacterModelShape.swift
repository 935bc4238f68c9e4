// A character-level language model: embedding → stacked LSTM or GRU over the sequence → a dense layer
// at every step giving the next character's logits. Built from the shared layer list, so its model
// file and PyTorch names are the ones every network has (emb1, lstm, fc1).
import Foundation
import Tensor
import NN
import Training

struct CharacterModelShape: CustomStringConvertible {
    var cell: Recurrent.Kind = .lstm
    var embedding = 64, hidden = 256, layers = 2

    func layers(vocabulary: Int) -> [LayerSpec] {
        [
            .embedding(vocabulary: vocabulary, size: embedding),
            .recurrent(RecurrentSpec(cell, hidden: hidden, layers: layers, sequence: true)),
            .dense(units: vocabulary, activation: ActivationSpec(.none), bias: true),
        ]
    }

    var description: String { "embedding \(embedding), \(cell.rawValue) \(layers)×\(hidden)" }
}
