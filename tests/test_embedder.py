"""memory.embedder gives sentence-transformers' own vectors without importing it."""
import json
import subprocess
import sys

import numpy as np
import pytest

from memory.embedder import Embedder, default_folder, plain_pipeline
from memory.errors import MemoloopError

TEXTS = ["Mochi vomited after breakfast", "Weighed 4.2 kg at the vet", "",
         "Gave Felimazole 2.5 mg at 08:00; she ate half of her wet food and hid under the bed all afternoon. " * 8,
         "Ça va? Naïve café test", "flea drops on both cats"]


def test_the_same_vectors_as_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    ours = Embedder().encode(TEXTS, batch_size=4)
    theirs = SentenceTransformer(str(default_folder()), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=2e-6)
    # one at a time (the question's path) equals the batch
    np.testing.assert_allclose(Embedder().encode(TEXTS[:1])[0], ours[0], atol=1e-6)


def test_the_default_folder_runs_without_sentence_transformers():
    code = ("import sys; from memory.embedder import Embedder; Embedder().encode(['a cat']); "
            "print(sorted(m for m in ('sentence_transformers', 'pandas', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_other_pipelines_go_to_sentence_transformers(tmp_path):
    folder = default_folder()
    assert plain_pipeline(folder) == {"pooling": "mean", "normalize": True, "max_seq_length": 256, "lower": False}
    dense = tmp_path / "dense"
    dense.mkdir()
    (dense / "1_Pooling").mkdir()
    (dense / "modules.json").write_text(json.dumps(
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
         {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]))
    (dense / "sentence_bert_config.json").write_text('{"max_seq_length": 128}')
    (dense / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    assert plain_pipeline(dense) is None
    two = tmp_path / "two"
    (two / "1_Pooling").mkdir(parents=True)
    (two / "modules.json").write_text(json.dumps(json.loads((dense / "modules.json").read_text())[:2]))
    (two / "sentence_bert_config.json").write_text('{"max_seq_length": 128, "do_lower_case": true}')
    (two / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true, "pooling_mode_max_tokens": true}')
    assert plain_pipeline(two) is None  # two poolings concatenate: sentence-transformers' job
    (two / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    assert plain_pipeline(two) == {"pooling": "cls", "normalize": False, "max_seq_length": 128, "lower": True}


def test_not_a_sentence_transformers_folder(tmp_path):
    with pytest.raises(MemoloopError, match="not a sentence-transformers folder"):
        Embedder(tmp_path)
