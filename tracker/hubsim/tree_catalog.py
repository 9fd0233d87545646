"""The tree world's catalogue: relation codes, the official orgs and their releases, the share of each
generation of derivatives, and the tag profiles its pages are rendered from."""

from __future__ import annotations

import json

RELATIONS = ("finetune", "adapter", "quantized", "merge")  # codes 0..3, -1 = none (the Hub's spelling)
FT, AD, QU, ME = range(4)
GATED = ("false", '"auto"', '"manual"')  # JSON fragments

# org -> (official models, [(name stem, share)], first release, last release, attractiveness)
ORGS = {
    "meta-llama": (70, [("Llama-3.1", 0.5), ("Llama-2", 0.5)], "2023-07-18", "2025-04-05", 13.0),
    "Qwen": (400, [("Qwen2.5", 0.6), ("Qwen3", 0.4)], "2023-08-03", "2026-11-02", 9.0),
    "deepseek-ai": (80, [("DeepSeek-V3", 1.0)], "2023-11-02", "2026-06-01", 3.0),
    "mistralai": (50, [("Mistral", 1.0)], "2023-09-27", "2026-03-01", 3.0),
    "google": (600, [("gemma-2", 0.25), ("t5", 0.4), ("vit", 0.35)], "2022-03-02", "2026-08-01", 1.5),
    "xai-org": (4, [("grok", 1.0)], "2024-03-17", "2025-08-23", 1.0),
    "HuggingFaceTB": (100, [("SmolLM2", 0.4), ("cosmo", 0.6)], "2024-07-16", "2026-05-01", 1.5),
    "bigcode": (60, [("starcoder2", 0.35), ("santacoder", 0.65)], "2023-05-04", "2024-10-01", 0.8),
    "bigscience": (80, [("bloom", 0.4), ("T0", 0.6)], "2022-03-02", "2022-12-01", 0.6),
}
# share of all models per generation of derivatives (1 = a child of a root)
GENERATIONS = (0.27, 0.13, 0.06, 0.025, 0.01, 0.005)
UNRELATED = 0.45  # models with no parent and (almost) no child
COMMUNITY_BASES = 0.002  # community base models (roots in no family)

# profile: (tags before the base_model tags, tags after, pipeline, library, safetensors)
PROFILES = [
    (
        ["transformers", "safetensors", "llama", "text-generation", "conversational"],
        ["endpoints_compatible", "region:us"],
        "text-generation",
        "transformers",
        True,
    ),  # 0 base / finetune
    (["peft", "safetensors"], ["region:us"], "text-generation", "peft", True),  # 1 adapter
    (["gguf"], ["endpoints_compatible", "region:us", "conversational"], None, "gguf", False),  # 2 gguf
    (["transformers", "safetensors", "4-bit", "awq"], ["region:us"], "text-generation", "transformers", True),  # 3 awq
    (["transformers", "safetensors", "mergekit", "merge"], ["region:us"], "text-generation", "transformers", True),  # 4
    (
        ["transformers", "pytorch", "bert", "text-classification"],
        ["endpoints_compatible", "region:us"],
        "text-classification",
        "transformers",
        False,
    ),  # 5 unrelated
    (["diffusers", "safetensors", "text-to-image", "lora"], ["region:us"], "text-to-image", "diffusers", True),  # 6
    (
        ["stable-baselines3", "reinforcement-learning"],
        ["region:us"],
        "reinforcement-learning",
        "stable-baselines3",
        False,
    ),  # 7
    (
        ["sentence-transformers", "safetensors", "feature-extraction"],
        ["region:us"],
        "feature-extraction",
        "sentence-transformers",
        True,
    ),  # 8
]
# each profile's tags as JSON fragments, ready for the page templates of tree_serve.py
PREFIX_JSON = [",".join(json.dumps(t) for t in p[0]) for p in PROFILES]
SUFFIX_JSON = [",".join(json.dumps(t) for t in p[1]) for p in PROFILES]
LICENSES = ["apache-2.0", "mit", "llama3.1", "gemma", "other"]
