"""Face attributes: age, gender, expression. One file per model; ``get_attribute_model(name)``.

Each model returns one ``Prediction`` per face with a probability and the model's name.
mien predicts no race or ethnicity: demographic labels appear only as the ground truth
of a fairness audit (``mien.audit``).
"""

from __future__ import annotations

from importlib import import_module

from ..errors import UnknownModelError
from .base import ABSTAIN, Abstaining, AttributeModel, Classifier, Prediction, withholding

# name -> "module:Class"; imported only when asked for, so importing mien loads nothing.
ATTRIBUTE_MODELS: dict[str, str] = {
    "dlib-age": "mien.attributes.dlib_age:DlibAge",
    "dlib-gender": "mien.attributes.dlib_gender:DlibGender",
    "fer-emotion": "mien.attributes.fer_emotion:FerEmotion",
    "faceres-age": "mien.attributes.faceres:FaceresAge",  # research use only
    "faceres-gender": "mien.attributes.faceres:FaceresGender",  # research use only
    "gear-age": "mien.attributes.gear:GearAge",  # licence unstated: not for commercial use
    "gear-gender": "mien.attributes.gear:GearGender",  # licence unstated: not for commercial use
    "ssrnet-age": "mien.attributes.ssrnet:SsrnetAge",  # research use only
    "ssrnet-gender": "mien.attributes.ssrnet:SsrnetGender",  # research use only
    "utk-age": "mien.attributes.heads:UtkAge",  # trained on UTKFace: research use only
    "utk-gender": "mien.attributes.heads:UtkGender",  # trained on UTKFace: research use only
}

DEFAULTS = {"age": "dlib-age", "gender": "dlib-gender", "expression": "fer-emotion"}


def get_attribute_model(name: str, min_probability: float | None = None, **options) -> AttributeModel:
    """An attribute model by registry name (or by task: "age", "gender", "expression").

    ``min_probability``: classifiers only; a face whose top probability is under it gets
    the value ``ABSTAIN`` ("unknown") instead of a guess (``Abstaining``).
    """
    name = DEFAULTS.get(name, name)
    try:
        module, cls = ATTRIBUTE_MODELS[name].split(":")
    except KeyError:
        raise UnknownModelError(name, [*ATTRIBUTE_MODELS, *DEFAULTS], kind="attribute model") from None
    model = getattr(import_module(module), cls)(**options)
    return model if min_probability is None else Abstaining(model, min_probability)


__all__ = ["ABSTAIN", "ATTRIBUTE_MODELS", "DEFAULTS", "Abstaining", "AttributeModel", "Classifier", "Prediction",
           "get_attribute_model", "withholding"]
