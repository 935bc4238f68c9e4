// NN: layers, losses, optimizers, checkpoints.
