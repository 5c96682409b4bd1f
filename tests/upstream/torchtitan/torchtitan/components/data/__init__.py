# Copyright (c) Meta Platforms, Inc. and affiliates.
# All rights reserved.
#
# This source code is licensed under the BSD-style license found in the
# LICENSE file in the root directory of this source tree.

from torchtitan.components.data.collators import Collator, TextCollator, TrainerBatch
from torchtitan.components.data.dataset import (
    DatasetConcatConfig,
    DatasetConfig,
    DatasetMixConfig,
    SampleProcessor,
    SingleDatasetConfig,
    TextSequence,
    WeightedDataset,
)
from torchtitan.components.data.loader import GrainDataLoader
from torchtitan.components.data.packing import (
    ConcatThenSplitPackingConfig,
    FirstFitPackingConfig,
)
from torchtitan.components.data.sources import (
    HuggingFaceRandomAccessSource,
    HuggingFaceStreamingSource,
    IndexedJsonlSource,
    RandomAccessDataSource,
    SourceConfig,
)
from torchtitan.components.data.types import DatasetBuildContext, DatasetIterationPolicy

__all__ = [
    "Collator",
    "ConcatThenSplitPackingConfig",
    "DatasetBuildContext",
    "DatasetConcatConfig",
    "DatasetConfig",
    "DatasetIterationPolicy",
    "DatasetMixConfig",
    "FirstFitPackingConfig",
    "GrainDataLoader",
    "HuggingFaceRandomAccessSource",
    "HuggingFaceStreamingSource",
    "IndexedJsonlSource",
    "RandomAccessDataSource",
    "SampleProcessor",
    "SingleDatasetConfig",
    "SourceConfig",
    "TextCollator",
    "TextSequence",
    "TrainerBatch",
    "WeightedDataset",
]
