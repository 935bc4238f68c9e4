// `dlpipe bench conv`: placeholder filled in with the conv kernels below.
import Foundation
import Tensor
func benchConv(_ opts: BenchOptions) {}
