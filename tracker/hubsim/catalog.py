"""Static catalogue the world generator draws from: official orgs, their releases, community names.

Kept apart from the generator (``generate.py``) so the numbers that shape the simulated ecosystem are easy to find and edit.
A release is ``(date, name prefix, sizes, variants, weight, model_type, pipeline_tag, library_name)``;
an official model's name is ``prefix-size+variant`` (deduplicated with a numeric suffix).
"""

from __future__ import annotations

# fmt: off
# (tables: one release, one profile a line, so a diff shows which changed)

# Default number of official models per org (World(official=None)).
DEFAULT_OFFICIAL = {
    "meta-llama": 70,
    "Qwen": 400,
    "deepseek-ai": 80,
    "mistralai": 50,
    "google": 600,
    "xai-org": 4,
    "HuggingFaceTB": 100,
    "bigcode": 60,
    "bigscience": 80,
}

TG = ("text-generation", "transformers")

# org -> dict(releases=[...], gated=(value, fraction), model_type=default)
ORG_SPECS: dict[str, dict] = {
    "meta-llama": {
        "gated": ("manual", 0.9),
        "releases": [
            ("2023-07-18", "Llama-2", ["7b", "13b", "70b"], ["-hf", "-chat-hf", ""], 3, "llama", *TG),
            ("2023-08-24", "CodeLlama", ["7b", "13b", "34b", "70b"], ["-hf", "-Instruct-hf", "-Python-hf"], 2, "llama", *TG),
            ("2024-04-18", "Meta-Llama-3", ["8B", "70B"], ["", "-Instruct"], 2, "llama", *TG),
            ("2024-07-23", "Llama-3.1", ["8B", "70B", "405B"], ["", "-Instruct", "-FP8"], 3, "llama", *TG),
            ("2024-07-23", "Llama-Guard-3", ["1B", "8B"], ["", "-INT4"], 1, "llama", *TG),
            ("2024-09-25", "Llama-3.2", ["1B", "3B", "11B-Vision", "90B-Vision"], ["", "-Instruct"], 3, "llama", *TG),
            ("2024-12-06", "Llama-3.3", ["70B"], ["-Instruct"], 1, "llama", *TG),
            ("2025-04-05", "Llama-4", ["Scout-17B-16E", "Maverick-17B-128E"], ["", "-Instruct", "-Instruct-FP8"], 2, "llama4", "image-text-to-text", "transformers"),
        ],
    },
    "Qwen": {
        "gated": (False, 0.0),
        "releases": [
            ("2023-08-03", "Qwen", ["1_8B", "7B", "14B", "72B"], ["", "-Chat", "-Chat-Int4"], 2, "qwen", *TG),
            ("2024-02-05", "Qwen1.5", ["0.5B", "1.8B", "4B", "7B", "14B", "32B", "72B", "110B"], ["", "-Chat", "-Chat-AWQ", "-Chat-GGUF", "-Chat-GPTQ-Int4"], 3, "qwen2", *TG),
            ("2024-06-06", "Qwen2", ["0.5B", "1.5B", "7B", "57B-A14B", "72B"], ["", "-Instruct", "-Instruct-AWQ", "-Instruct-GGUF"], 3, "qwen2", *TG),
            ("2024-08-29", "Qwen2-VL", ["2B", "7B", "72B"], ["", "-Instruct", "-Instruct-AWQ"], 1, "qwen2_vl", "image-text-to-text", "transformers"),
            ("2024-09-18", "Qwen2.5", ["0.5B", "1.5B", "3B", "7B", "14B", "32B", "72B"], ["", "-Instruct", "-Instruct-AWQ", "-Instruct-GGUF", "-Instruct-GPTQ-Int4", "-Instruct-GPTQ-Int8"], 5, "qwen2", *TG),
            ("2024-11-11", "Qwen2.5-Coder", ["0.5B", "1.5B", "3B", "7B", "14B", "32B"], ["", "-Instruct", "-Instruct-GGUF", "-Instruct-AWQ"], 3, "qwen2", *TG),
            ("2024-11-27", "QwQ", ["32B"], ["-Preview", "", "-AWQ", "-GGUF"], 1, "qwen2", *TG),
            ("2025-01-26", "Qwen2.5-VL", ["3B", "7B", "32B", "72B"], ["-Instruct", "-Instruct-AWQ"], 2, "qwen2_5_vl", "image-text-to-text", "transformers"),
            ("2025-04-28", "Qwen3", ["0.6B", "1.7B", "4B", "8B", "14B", "32B", "30B-A3B", "235B-A22B"], ["", "-Base", "-FP8", "-AWQ", "-GGUF", "-MLX-4bit"], 6, "qwen3", *TG),
            ("2025-06-05", "Qwen3-Embedding", ["0.6B", "4B", "8B"], ["", "-GGUF"], 1, "qwen3", "feature-extraction", "sentence-transformers"),
            ("2025-07-22", "Qwen3-Coder", ["30B-A3B", "480B-A35B"], ["-Instruct", "-Instruct-FP8"], 1, "qwen3_moe", *TG),
            ("2025-09-10", "Qwen3-Next", ["80B-A3B"], ["-Instruct", "-Thinking", "-Instruct-FP8"], 1, "qwen3_next", *TG),
            ("2025-10-01", "Qwen3-VL", ["2B", "4B", "8B", "32B", "30B-A3B", "235B-A22B"], ["-Instruct", "-Thinking", "-Instruct-FP8"], 3, "qwen3_vl", "image-text-to-text", "transformers"),
            ("2026-02-15", "Qwen3.5", ["0.8B", "2B", "9B", "27B", "35B-A3B", "122B-A10B", "397B-A17B"], ["", "-Base", "-FP8", "-GGUF"], 4, "qwen3_5", "image-text-to-text", "transformers"),
            ("2026-06-10", "Qwen3.6", ["4B", "27B", "35B-A3B"], ["", "-FP8"], 2, "qwen3_5", "image-text-to-text", "transformers"),
            ("2026-11-02", "Qwen4", ["8B", "32B", "235B-A22B"], ["", "-Instruct", "-FP8"], 2, "qwen4", *TG),
        ],
    },
    "deepseek-ai": {
        "gated": (False, 0.0),
        "releases": [
            ("2023-10-30", "deepseek-coder", ["1.3b", "6.7b", "33b"], ["-base", "-instruct"], 2, "llama", *TG),
            ("2023-11-29", "deepseek-llm", ["7b", "67b"], ["-base", "-chat"], 1, "llama", *TG),
            ("2024-05-06", "DeepSeek-V2", ["", "-Lite"], ["", "-Chat"], 1, "deepseek_v2", *TG),
            ("2024-12-26", "DeepSeek-V3", [""], ["", "-Base"], 1, "deepseek_v3", *TG),
            ("2025-01-20", "DeepSeek-R1", [""], ["", "-Zero"], 1, "deepseek_v3", *TG),
            ("2025-01-20", "DeepSeek-R1-Distill", ["Qwen-1.5B", "Qwen-7B", "Qwen-14B", "Qwen-32B", "Llama-8B", "Llama-70B"], [""], 2, "qwen2", *TG),
            ("2025-01-27", "Janus-Pro", ["1B", "7B"], [""], 1, "multi_modality", "any-to-any", None),
            ("2025-08-21", "DeepSeek-V3.1", [""], ["", "-Base", "-Terminus"], 1, "deepseek_v3", *TG),
            ("2025-12-01", "DeepSeek-V3.2", [""], ["", "-Exp", "-Speciale"], 1, "deepseek_v32", *TG),
            ("2026-04-20", "DeepSeek-V4", [""], ["", "-Base", "-Flash"], 1, "deepseek_v4", *TG),
        ],
    },
    "mistralai": {
        "gated": ("auto", 0.5),
        "releases": [
            ("2023-09-27", "Mistral-7B", [""], ["-v0.1", "-Instruct-v0.1", "-Instruct-v0.2", "-v0.3", "-Instruct-v0.3"], 2, "mistral", *TG),
            ("2023-12-11", "Mixtral", ["8x7B", "8x22B"], ["-v0.1", "-Instruct-v0.1"], 1, "mixtral", *TG),
            ("2024-07-18", "Mistral-Nemo", [""], ["-Base-2407", "-Instruct-2407"], 1, "mistral", *TG),
            ("2024-09-11", "Pixtral", ["12B"], ["-2409", "-Base-2409"], 1, "pixtral", "image-text-to-text", "vllm"),
            ("2025-01-30", "Mistral-Small", ["24B"], ["-Base-2501", "-Instruct-2501"], 1, "mistral", *TG),
            ("2025-05-21", "Devstral", ["Small"], ["-2505", "-2507"], 1, "mistral", "text-generation", "vllm"),
            ("2025-06-10", "Magistral", ["Small", "Medium"], ["-2506", "-2509"], 1, "mistral", "text-generation", "vllm"),
            ("2025-12-02", "Ministral-3", ["3B", "8B", "14B"], ["-Base-2512", "-Instruct-2512", "-Reasoning-2512"], 2, "mistral3", "image-text-to-text", "vllm"),
        ],
    },
    "google": {
        "gated": (False, 0.0),
        "releases": [
            ("2022-03-02", "t5", ["small", "base", "large", "3b", "11b"], ["", "-v1_1"], 7, "t5", "text2text-generation", "transformers"),
            ("2022-03-02", "electra", ["small", "base", "large"], ["-discriminator", "-generator"], 4, "electra", None, "transformers"),
            ("2022-03-02", "vit", ["base-patch16-224", "large-patch16-224", "huge-patch14-224"], ["", "-in21k"], 4, "vit", "image-classification", "transformers"),
            ("2022-03-02", "bert_uncased", ["L-2_H-128_A-2", "L-4_H-256_A-4", "L-8_H-512_A-8", "L-12_H-768_A-12"], [""], 8, "bert", "fill-mask", "transformers"),
            ("2022-03-02", "mt5", ["small", "base", "large", "xl", "xxl"], [""], 4, "mt5", "text2text-generation", "transformers"),
            ("2022-10-20", "flan-t5", ["small", "base", "large", "xl", "xxl"], [""], 6, "t5", "text2text-generation", "transformers"),
            ("2023-03-15", "pix2struct", ["base", "large"], ["", "-textcaps-base", "-docvqa-base"], 3, "pix2struct", "image-to-text", "transformers"),
            ("2023-09-28", "siglip", ["base-patch16-224", "so400m-patch14-384", "large-patch16-256"], [""], 3, "siglip", "zero-shot-image-classification", "transformers"),
            ("2024-02-21", "gemma", ["2b", "7b"], ["", "-it"], 2, "gemma", *TG),
            ("2024-04-09", "codegemma", ["2b", "7b"], ["", "-it"], 1, "gemma", *TG),
            ("2024-05-14", "paligemma", ["3b-pt-224", "3b-mix-448"], [""], 1, "paligemma", "image-text-to-text", "transformers"),
            ("2024-05-08", "timesfm", ["1.0-200m", "2.0-500m"], ["", "-pytorch"], 3, "timesfm", "time-series-forecasting", "timesfm"),
            ("2024-06-27", "gemma-2", ["2b", "9b", "27b"], ["", "-it", "-jpn-it"], 3, "gemma2", *TG),
            ("2025-02-20", "siglip2", ["base-patch16-224", "large-patch16-256", "so400m-patch14-384"], [""], 3, "siglip", "zero-shot-image-classification", "transformers"),
            ("2025-03-12", "gemma-3", ["270m", "1b", "4b", "12b", "27b"], ["-pt", "-it", "-it-qat-q4_0-gguf"], 4, "gemma3", "image-text-to-text", "transformers"),
            ("2025-06-26", "gemma-3n", ["E2B", "E4B"], ["", "-it", "-it-litert-preview"], 1, "gemma3n", "image-text-to-text", "transformers"),
            ("2025-09-04", "embeddinggemma", ["300m"], ["", "-qat-q4_0-unquantized"], 1, "gemma3_text", "sentence-similarity", "sentence-transformers"),
            ("2026-04-02", "gemma-4", ["1b", "4b", "12b", "31b"], ["", "-it"], 2, "gemma4", "image-text-to-text", "transformers"),
        ],
    },
    "xai-org": {
        "gated": (False, 0.0),
        "releases": [
            ("2024-03-17", "grok-1", [""], [""], 1, "grok-1", "text-generation", "grok"),
            ("2025-08-23", "grok-2", [""], [""], 1, "grok-2", "text-generation", "sglang"),
            ("2026-02-20", "grok-2.5", [""], [""], 1, "grok-2", "text-generation", "sglang"),
            ("2026-07-25", "grok-3", [""], [""], 1, "grok-3", "text-generation", "sglang"),
        ],
    },
    "HuggingFaceTB": {
        "gated": (False, 0.0),
        "releases": [
            ("2024-02-20", "cosmo", ["1b"], [""], 1, "llama", *TG),
            ("2024-07-14", "SmolLM", ["135M", "360M", "1.7B"], ["", "-Instruct"], 2, "llama", *TG),
            ("2024-10-31", "SmolLM2", ["135M", "360M", "1.7B"], ["", "-Instruct", "-Instruct-GGUF"], 3, "llama", *TG),
            ("2024-11-26", "SmolVLM", ["256M", "500M", "2B"], ["-Base", "-Instruct"], 2, "idefics3", "image-text-to-text", "transformers"),
            ("2024-06-01", "fineweb-edu-classifier", [""], [""], 1, "bert", "text-classification", "transformers"),
            ("2025-01-10", "finemath-ablation", ["3plus", "4plus", "infiwebmath"], [""], 3, "llama", *TG),
            ("2025-07-08", "SmolLM3", ["3B"], ["", "-Base", "-ONNX"], 1, "smollm3", *TG),
        ],
    },
    "bigcode": {
        "gated": ("auto", 0.3),
        "releases": [
            ("2022-12-20", "santacoder", [""], ["", "-ldf", "-fast-inference"], 1, "gpt2", "text-generation", "transformers"),
            ("2023-05-04", "starcoder", ["", "base", "plus"], ["", "-megatron"], 2, "gpt_bigcode", *TG),
            ("2023-08-15", "octocoder", [""], [""], 1, "gpt_bigcode", *TG),
            ("2024-02-28", "starcoder2", ["3b", "7b", "15b"], ["", "-instruct-v0.1"], 2, "starcoder2", *TG),
            ("2023-06-01", "the-stack-ablation", ["python", "java", "js"], ["-1b", "-3b"], 3, "gpt_bigcode", *TG),
        ],
    },
    "bigscience": {
        "gated": (False, 0.0),
        "releases": [
            ("2022-03-02", "T0", ["", "+pp", "+_3B"], [""], 2, "t5", "text2text-generation", "transformers"),
            ("2022-07-06", "bloom", ["", "-560m", "-1b1", "-1b7", "-3b", "-7b1"], ["", "-intermediate"], 3, "bloom", *TG),
            ("2022-11-03", "bloomz", ["", "-560m", "-1b1", "-7b1"], ["", "-mt", "-p3"], 2, "bloom", *TG),
            ("2022-11-03", "mt0", ["-small", "-base", "-large", "-xl", "-xxl"], ["", "-mt", "-p3"], 3, "mt5", "text2text-generation", "transformers"),
            ("2022-05-01", "tr11-176B-logs", [""], ["", "-ml"], 1, "bloom", None, None),
        ],
    },
}

# Share of the derivative budget each family attracts (only families present in the world count).
DERIVATIVE_WEIGHT = {
    "meta-llama": 0.26, "Qwen": 0.30, "mistralai": 0.09, "google": 0.12, "deepseek-ai": 0.08,
    "HuggingFaceTB": 0.05, "bigcode": 0.02, "bigscience": 0.02, "xai-org": 0.005,
}
OTHER_ORG_DERIVATIVE_WEIGHT = 0.03

FAMOUS_QUANTIZERS = ["TheBloke", "bartowski", "mradermacher", "unsloth", "lmstudio-community", "mlx-community",
                     "QuantFactory", "MaziyarPanahi"]
FAMOUS_TUNERS = ["NousResearch", "cognitivecomputations", "allenai", "nvidia", "teknium", "openchat",
                 "HuggingFaceH4", "abacusai", "upstage", "Intel"]

SYLLABLES = ["ka", "lo", "mi", "ra", "to", "ne", "su", "vi", "an", "el", "or", "ix", "ze", "po", "qu", "da",
             "fen", "gor", "hal", "jin", "kor", "lum", "mar", "nix", "pal", "rex", "sol", "tav", "ulm", "vor"]

QUANT_SUFFIX = ["GGUF", "AWQ", "GPTQ", "GPTQ-Int4", "4bit", "8bit", "Q4_K_M-GGUF", "i1-GGUF", "mlx-4bit",
                "bnb-4bit", "EXL2", "FP8-Dynamic"]
TUNE_SUFFIX = ["sft", "dpo", "orpo", "chat", "instruct", "math", "code", "uncensored", "abliterated", "v1",
               "v2", "roleplay", "medical", "legal", "ko", "ja", "de", "reasoning", "grpo", "distill"]
ADAPTER_SUFFIX = ["lora", "qlora", "lora-adapter", "peft", "adapter", "lora-r16", "sft-lora"]
MERGE_SUFFIX = ["slerp", "ties", "dare-ties", "passthrough", "linear-merge", "model-stock", "della"]

# Unrelated community models: (pipeline_tag, library_name, model_type, name stem, weight)
UNRELATED_PROFILES = [
    ("text-classification", "transformers", "bert", "bert-finetuned", 8),
    ("token-classification", "transformers", "bert", "ner", 3),
    ("sentence-similarity", "sentence-transformers", "bert", "embeddings", 5),
    ("feature-extraction", "transformers", "bert", "encoder", 2),
    ("text-to-image", "diffusers", None, "sd-lora", 6),
    ("image-classification", "timm", None, "vit-classifier", 3),
    ("image-classification", "transformers", "vit", "image-clf", 3),
    ("automatic-speech-recognition", "transformers", "whisper", "whisper-small", 4),
    ("reinforcement-learning", "stable-baselines3", None, "ppo-LunarLander-v2", 8),
    ("reinforcement-learning", "ml-agents", None, "ppo-Huggy", 3),
    ("text-generation", "transformers", "gpt2", "gpt2-finetuned", 5),
    ("text2text-generation", "transformers", "t5", "t5-summarizer", 3),
    ("object-detection", "ultralytics", None, "yolov8", 2),
    ("translation", "transformers", "marian", "opus-mt", 2),
    (None, "transformers", None, "checkpoint", 4),
    (None, None, None, "experiment", 6),
    ("tabular-classification", "sklearn", None, "sklearn-model", 1),
    ("text-to-speech", "transformers", "vits", "tts", 1),
    ("image-segmentation", "transformers", "segformer", "segformer", 1),
]

LICENSES = ["apache-2.0", "mit", "llama2", "llama3", "llama3.1", "llama3.2", "gemma", "other", "cc-by-4.0",
            "cc-by-nc-4.0", "openrail", "bigscience-openrail-m", "bigcode-openrail-m", "qwen", "deepseek"]
ORG_LICENSE = {"meta-llama": "llama3.1", "Qwen": "apache-2.0", "deepseek-ai": "mit", "mistralai": "apache-2.0",
               "google": "gemma", "xai-org": "apache-2.0", "HuggingFaceTB": "apache-2.0",
               "bigcode": "bigcode-openrail-m", "bigscience": "bigscience-openrail-m"}

AUTO_MODEL = {
    "text-generation": "AutoModelForCausalLM", "image-text-to-text": "AutoModelForImageTextToText",
    "text2text-generation": "AutoModelForSeq2SeqLM", "fill-mask": "AutoModelForMaskedLM",
    "text-classification": "AutoModelForSequenceClassification", "token-classification": "AutoModelForTokenClassification",
    "image-classification": "AutoModelForImageClassification", "automatic-speech-recognition": "AutoModelForSpeechSeq2Seq",
    "feature-extraction": "AutoModel", "sentence-similarity": "AutoModel", "translation": "AutoModelForSeq2SeqLM",
}
