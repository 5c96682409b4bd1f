"""Stand-in for megatron/core/quantization/utils.py (Kitchen / TE precision recipes from a
file): core_transformer_config_from_args calls these only with --kitchen-config-file,
--kitchen-recipe-number or --te-precision-config-file, which the export never writes."""


def kitchen_quantization_recipe_config(recipe_number):
    raise NotImplementedError("stand-in: quantization recipes are not vendored")


def load_quantization_recipe(path):
    raise NotImplementedError("stand-in: quantization recipes are not vendored")
