"""What a kind of model carries: its tags (before and after the base_model/license tags), its files,
pipeline and library. The world stores one code per model, pointing into a list of these profiles."""

from __future__ import annotations


def make_profile(library, pipeline, model_type, flavor, tags=None) -> dict:
    """The profile of a model kind; ``tags`` given (an injected model) are served verbatim."""
    if tags is not None:  # injected model: its tags are served verbatim
        prof = {
            "prefix": list(tags),
            "suffix": [],
            "pipeline": pipeline,
            "library": library,
            "model_type": model_type,
            "flavor": flavor,
            "files": [".gitattributes", "README.md"],
            "raw_tags": True,
        }
    else:
        prefix: list[str] = []
        files = [".gitattributes", "README.md"]
        if flavor == "gguf":
            prefix += ["gguf"]
            files += ["model-Q4_K_M.gguf", "model-Q8_0.gguf"]
        elif flavor == "adapter":
            prefix += ["peft", "safetensors"]
            files += ["adapter_config.json", "adapter_model.safetensors"]
        elif flavor == "mlx":
            prefix += ["mlx", "safetensors"]
            files += ["config.json", "model.safetensors", "tokenizer.json"]
        elif library is not None:
            prefix.append(library)
            if library in ("transformers", "sentence-transformers", "diffusers", "timm", "vllm", "sglang"):
                prefix.append("safetensors")
                files += ["config.json", "model.safetensors"]
            else:
                files += ["model.bin"]
        if flavor in ("awq", "gptq", "bnb"):
            prefix += ["4-bit", {"awq": "awq", "gptq": "gptq", "bnb": "bitsandbytes"}[flavor]]
        if model_type and flavor != "gguf":
            prefix.append(model_type)
        if flavor == "merge":
            prefix += ["mergekit", "merge"]
        if flavor == "finetune":
            prefix += ["trl", "sft"]
        if pipeline:
            prefix.append(pipeline)
        if pipeline in ("text-generation", "image-text-to-text") and flavor != "adapter":
            prefix.append("conversational")
        suffix = []
        if library == "transformers" and pipeline == "text-generation":
            suffix += ["autotrain_compatible", "text-generation-inference"]
        suffix += ["endpoints_compatible", "region:us"]
        if library in ("transformers", "sentence-transformers", "vllm"):
            files += ["tokenizer.json", "tokenizer_config.json"]
        prof = {
            "prefix": prefix,
            "suffix": suffix,
            "pipeline": pipeline,
            "library": library,
            "model_type": model_type,
            "flavor": flavor,
            "files": files,
            "raw_tags": False,
        }
    return prof
